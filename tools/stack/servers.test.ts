import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stackPaths } from './paths';
import { absolutizeStackPaths } from './render';
import { cassandraServer } from './servers';

describe('cassandraServer.configIsCurrent', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'stack-servers-'));
  const paths = stackPaths(root);
  const committed = path.join(paths.infraDir, 'cassandra', 'cassandra.yaml');
  const rendered = path.join(paths.confDir('cassandra'), 'cassandra.yaml');
  beforeAll(() => {
    mkdirSync(path.dirname(committed), { recursive: true });
    mkdirSync(path.dirname(rendered), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is false once the committed config differs from the one the running server was started with', () => {
    const before =
      'authenticator: AllowAllAuthenticator\ncommitlog_directory: .stack/data/cassandra/commitlog\n';
    writeFileSync(committed, before);
    expect(cassandraServer.configIsCurrent!(paths)).toBe(false); // never rendered
    writeFileSync(rendered, absolutizeStackPaths(before, paths.stackDir));
    expect(cassandraServer.configIsCurrent!(paths)).toBe(true);
    writeFileSync(committed, before.replace('AllowAllAuthenticator', 'PasswordAuthenticator'));
    expect(cassandraServer.configIsCurrent!(paths)).toBe(false);
  });
});
