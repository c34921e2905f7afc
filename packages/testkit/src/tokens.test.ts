import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTokenVerifier } from '@dispatch/platform';
import { ensureKeyFiles, readSigningKeys } from '@dispatch/platform/token-issuer';
import { eventually } from './eventually';
import { createTestIssuer, localSigningKey, localSigningKeysFile, tokenFor } from './tokens';

const verifierFor = (jwksFile: string) =>
  createTokenVerifier({
    AUTH_JWKS_FILE: jwksFile,
    AUTH_JWT_ISSUER: 'dispatch',
    AUTH_JWT_AUDIENCE: 'dispatch-api',
  });

describe('tokenFor (the running stack’s local issuer)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'testkit-tokens-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = () => ({
    privateFile: path.join(dir, 'secrets', 'token-signing-keys.json'),
    jwksFile: path.join(dir, 'auth', 'jwks.json'),
  });

  it('signs with the newest key of .stack/secrets/token-signing-keys.json; the public JWKS verifies it', async () => {
    ensureKeyFiles(files());
    expect(localSigningKeysFile({ DISPATCH_STACK_DIR: dir })).toBe(files().privateFile);
    expect(statSync(files().privateFile).mode & 0o777).toBe(0o600);
    const token = await tokenFor('customer-7', 'customer', { env: { DISPATCH_STACK_DIR: dir } });
    await expect(verifierFor(files().jwksFile)(token)).resolves.toMatchObject({
      subject: 'customer-7',
      roles: ['customer'],
    });
    const admin = await tokenFor('ops', 'admin', { env: { DISPATCH_STACK_DIR: dir }, ttl: '2h' });
    await expect(verifierFor(files().jwksFile)(admin)).resolves.toMatchObject({ roles: ['admin'] });
    expect(localSigningKey({ DISPATCH_STACK_DIR: dir }).kid).toBe(
      readSigningKeys(files().privateFile)[0]?.kid,
    );
  });

  it('a token of another issuer is refused', async () => {
    ensureKeyFiles(files());
    const other = createTestIssuer();
    try {
      await expect(verifierFor(files().jwksFile)(await other.sign('customer-7'))).rejects.toThrow(
        /not one this service trusts/,
      );
    } finally {
      other.cleanup();
    }
  });

  it('says how to get keys when there are none', async () => {
    expect(() => localSigningKey({ DISPATCH_STACK_DIR: dir })).toThrow(/pnpm stack up/);
    await expect(tokenFor('c', 'customer', { env: { DISPATCH_STACK_DIR: dir } })).rejects.toThrow(
      /pnpm stack up/,
    );
  });
});

describe('createTestIssuer', () => {
  it('rotates and retires keys; the JWKS file holds public keys only', async () => {
    const issuer = createTestIssuer();
    try {
      const verify = verifierFor(issuer.jwksFile);
      const first = await issuer.sign('c-1');
      await expect(verify(first)).resolves.toMatchObject({ subject: 'c-1' });
      issuer.rotate();
      expect(issuer.keys()).toHaveLength(2);
      const second = await issuer.sign('c-1', 'admin');
      await expect(verify(second)).resolves.toMatchObject({ roles: ['admin'] });
      await expect(verify(first)).resolves.toBeDefined();
      expect(issuer.retire()).toHaveLength(1);
      // The verifier re-reads a changed JWKS file at most once a second.
      await eventually(() => expect(verify(first)).rejects.toThrow(/not one this service trusts/), {
        timeoutMs: 3_000,
      });
      await expect(verify(second)).resolves.toBeDefined();
    } finally {
      issuer.cleanup();
    }
  });
});
