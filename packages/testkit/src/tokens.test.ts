import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTokenVerifier } from '@dispatch/platform';
import { localJwtSecret, tokenFor } from './tokens';

const SECRET = 'k'.repeat(43);

describe('tokenFor', () => {
  it('signs a token the services verifier accepts, with the default issuer and audience', async () => {
    const token = await tokenFor('customer-7', 'customer', { env: { AUTH_JWT_SECRET: SECRET } });
    const verify = createTokenVerifier({
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWT_ISSUER: 'dispatch',
      AUTH_JWT_AUDIENCE: 'dispatch-api',
    });
    await expect(verify(token)).resolves.toMatchObject({ subject: 'customer-7', roles: ['customer'] });
  });

  it('is rejected by a service with another secret', async () => {
    const token = await tokenFor('ops', 'admin', { env: { AUTH_JWT_SECRET: SECRET } });
    const verify = createTokenVerifier({
      AUTH_JWT_SECRET: 'x'.repeat(43),
      AUTH_JWT_ISSUER: 'dispatch',
      AUTH_JWT_AUDIENCE: 'dispatch-api',
    });
    await expect(verify(token)).rejects.toThrow(/not valid/);
  });
});

describe('localJwtSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'testkit-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers AUTH_JWT_SECRET, else reads .stack/secrets/jwt-secret', () => {
    expect(localJwtSecret({ AUTH_JWT_SECRET: SECRET, DISPATCH_STACK_DIR: dir })).toBe(SECRET);
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets', 'jwt-secret'), 'from-file\n');
    expect(localJwtSecret({ DISPATCH_STACK_DIR: dir })).toBe('from-file');
  });

  it('says to start the stack when there is no secret', () => {
    expect(() => localJwtSecret({ DISPATCH_STACK_DIR: dir })).toThrow(/pnpm stack up/);
  });
});
