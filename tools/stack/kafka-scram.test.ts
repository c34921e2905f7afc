import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  adminClientProperties,
  brokerAuthProperties,
  readScramState,
  recordScramUsers,
  scramFormatArguments,
  staleScramUsers,
} from './kafka-scram';

const passwords = new Map([
  ['admin', 'admin-pw-0123456789'],
  ['controller', 'controller-pw-0123456789'],
  ['order-service', 'order-pw-0123456789'],
]);

describe('broker authentication settings', () => {
  it('puts the admin on the client listener (SCRAM) and the controller login on the controller listener (PLAIN)', () => {
    const props = brokerAuthProperties(passwords);
    expect(props['listener.name.client.scram-sha-512.sasl.jaas.config']).toBe(
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-pw-0123456789";',
    );
    expect(props['listener.name.controller.plain.sasl.jaas.config']).toContain(
      'username="controller" password="controller-pw-0123456789" user_controller="controller-pw-0123456789";',
    );
  });

  it('formats the storage with every SCRAM user but the controller (a PLAIN login)', () => {
    expect(scramFormatArguments(passwords)).toEqual([
      '--add-scram',
      'SCRAM-SHA-512=[name=admin,password=admin-pw-0123456789]',
      '--add-scram',
      'SCRAM-SHA-512=[name=order-service,password=order-pw-0123456789]',
    ]);
  });

  it('the Java admin client logs in as admin over SASL', () => {
    expect(adminClientProperties('pw')).toContain('sasl.mechanism=SCRAM-SHA-512');
    expect(adminClientProperties('pw')).toContain('username="admin" password="pw";');
  });
});

describe('which SCRAM users the storage lacks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'scram-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('all of them before anything is recorded, none after, the changed one after a new password', () => {
    expect(staleScramUsers(readScramState(dir), passwords)).toEqual(['admin', 'order-service']);
    recordScramUsers(dir, passwords);
    expect(staleScramUsers(readScramState(dir), passwords)).toEqual([]);
    const rotated = new Map(passwords).set('order-service', 'new-order-pw-0123456789');
    expect(staleScramUsers(readScramState(dir), rotated)).toEqual(['order-service']);
    expect(JSON.stringify(readScramState(dir))).not.toContain('order-pw');
  });
});
