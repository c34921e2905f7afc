import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadStackConfig } from './config';
import {
  ensureRolePassword,
  postgresRoleEnv,
  readRolePassword,
  rolePasswordFile,
  serviceRoleName,
  serviceRoles,
} from './postgres-roles';
import { APP_SERVICES, findAppService } from './services';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'pg-roles-')), 'postgres');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('serviceRoles', () => {
  it('gives every service with a database its own role, and none to the others', () => {
    expect(serviceRoles(APP_SERVICES)).toEqual([
      { service: 'order-service', database: 'order_db', role: 'order_service' },
      { service: 'payment-service', database: 'payment_db', role: 'payment_service' },
      { service: 'inventory-service', database: 'inventory_db', role: 'inventory_service' },
      { service: 'delivery-service', database: 'delivery_db', role: 'delivery_service' },
      { service: 'webhook-service', database: 'webhook_db', role: 'webhook_service' },
    ]);
  });

  it('refuses a service name that does not make a plain identifier', () => {
    expect(serviceRoleName('order-service')).toBe('order_service');
    expect(() => serviceRoleName('Order"; DROP ROLE postgres; --')).toThrow(/PostgreSQL role name/);
  });
});

describe('role passwords', () => {
  it('generates one once, private (0600 in a 0700 folder), and reuses it', () => {
    const first = ensureRolePassword(dir, 'order-service');
    expect(first.created).toBe(true);
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(rolePasswordFile(dir, 'order-service')).mode & 0o777).toBe(0o600);
    expect(ensureRolePassword(dir, 'order-service')).toEqual({ password: first.password, created: false });
    expect(ensureRolePassword(dir, 'payment-service').password).not.toBe(first.password);
  });

  it('keeps a password someone put there (rotation), and narrows its mode again', () => {
    ensureRolePassword(dir, 'order-service');
    writeFileSync(rolePasswordFile(dir, 'order-service'), 'rotated-by-hand-0001\n', { mode: 0o644 });
    expect(ensureRolePassword(dir, 'order-service')).toEqual({
      password: 'rotated-by-hand-0001',
      created: false,
    });
    expect(statSync(rolePasswordFile(dir, 'order-service')).mode & 0o777).toBe(0o600);
    expect(readFileSync(rolePasswordFile(dir, 'order-service'), 'utf8')).toBe('rotated-by-hand-0001\n');
  });

  it('says to run up when a password is missing, and refuses an empty one', () => {
    expect(() => readRolePassword(dir, 'order-service')).toThrow(/run \.\/dispatch up/);
    ensureRolePassword(dir, 'order-service');
    writeFileSync(rolePasswordFile(dir, 'order-service'), '\n');
    expect(() => readRolePassword(dir, 'order-service')).toThrow(/must hold one password/);
  });
});

describe('postgresRoleEnv', () => {
  it("is the service's own role and password; nothing for a service without a database", () => {
    const postgres = { ...loadStackConfig({ PGPASSWORD: 'superuser-pw' }).postgres, roleSecretsDir: dir };
    const { password } = ensureRolePassword(dir, 'payment-service');
    expect(postgresRoleEnv(findAppService('payment-service')!, postgres)).toEqual({
      PGUSER: 'payment_service',
      PGPASSWORD: password,
    });
    expect(postgresRoleEnv(findAppService('query-api')!, postgres)).toEqual({
      PGUSER: undefined,
      PGPASSWORD: undefined,
    });
    expect(() => postgresRoleEnv(findAppService('order-service')!, postgres)).toThrow(/run \.\/dispatch up/);
  });
});
