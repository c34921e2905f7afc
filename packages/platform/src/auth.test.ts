import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { z } from 'zod';
import { authEnv, createTokenVerifier, parsePublicJwks, requireAuth, type TokenVerifier } from './auth';
import { parseConfig } from './config';
import { UnauthorizedError } from './errors';
import {
  generateSigningKey,
  type KeyFiles,
  publicJwkOf,
  retireKeyFiles,
  rotateKeyFiles,
  type SigningKey,
  signToken,
  writeKeyFiles,
} from './token-issuer';

const claims = { issuer: 'dispatch', audience: 'dispatch-api' };
const cfgBase = { AUTH_JWT_ISSUER: 'dispatch', AUTH_JWT_AUDIENCE: 'dispatch-api' };
const now = () => Math.floor(Date.now() / 1000);

let dir: string;
let files: KeyFiles;
let key: SigningKey;
let verify: TokenVerifier;

/** A token with exactly these claims and header, signed with `signer`. */
async function craft(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
  signer: SigningKey = key,
): Promise<string> {
  const privateKey = await importJWK(signer, signer.alg);
  return new SignJWT({ sub: 'cust-1', roles: ['customer'], iss: 'dispatch', aud: 'dispatch-api', ...payload })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...header } as never)
    .sign(privateKey);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'auth-test-'));
  files = { privateFile: path.join(dir, 'keys.json'), jwksFile: path.join(dir, 'jwks.json') };
  key = generateSigningKey('EdDSA');
  writeKeyFiles(files, [key]);
  verify = createTokenVerifier({ ...cfgBase, AUTH_JWKS_FILE: files.jwksFile }, { fileCheckIntervalMs: 0 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('token verification (public keys only)', () => {
  it('round-trips a principal, with its expiry', async () => {
    const principal = await verify(
      await signToken(key, claims, { subject: 'cust-1', roles: ['customer'] }, '90s'),
    );
    expect(principal).toMatchObject({ subject: 'cust-1', roles: ['customer'] });
    expect(principal.expiresAt?.getTime()).toBe((now() + 90) * 1000);
  });

  it('accepts RS256 as well as EdDSA', async () => {
    const rsa = generateSigningKey('RS256');
    writeKeyFiles(files, [key, rsa]);
    await expect(
      verify(await signToken(rsa, claims, { subject: 'c', roles: ['admin'] })),
    ).resolves.toMatchObject({
      roles: ['admin'],
    });
  });

  it('refuses a token signed with a key the JWKS does not hold, even under a known kid', async () => {
    const stranger = generateSigningKey('EdDSA', key.kid);
    await expect(
      verify(await signToken(stranger, claims, { subject: 'c', roles: ['admin'] })),
    ).rejects.toThrow('The token signature does not verify.');
    const unknown = generateSigningKey('EdDSA');
    await expect(
      verify(await signToken(unknown, claims, { subject: 'c', roles: ['admin'] })),
    ).rejects.toThrow(`The token's signing key (kid "${unknown.kid}") is not one this service trusts.`);
  });

  it('refuses HS256 (a shared secret), alg none and a token without kid', async () => {
    const hs256 = await new SignJWT({ sub: 'c', roles: ['admin'], iss: 'dispatch', aud: 'dispatch-api' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-0123456789'));
    await expect(verify(hs256)).rejects.toThrow(
      'The token is signed with HS256; only EdDSA and RS256 are accepted.',
    );
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'c', roles: ['admin'], iss: 'dispatch', aud: 'dispatch-api', exp: now() + 60 }),
    ).toString('base64url');
    await expect(verify(`${header}.${body}.`)).rejects.toThrow(/signed with none/);
    await expect(verify(await craft({ iat: now(), exp: now() + 60 }, { kid: undefined }))).rejects.toThrow(
      'The token does not name its signing key (kid).',
    );
    await expect(verify('not.a.jwt')).rejects.toThrow('The token is not a well-formed JWT.');
  });

  it('requires exp and iat, and refuses an expired token', async () => {
    await expect(verify(await craft({ iat: now() }))).rejects.toThrow(
      'The token has no expiry (exp); tokens must expire.',
    );
    await expect(verify(await craft({ exp: now() + 60 }))).rejects.toThrow(
      'The token has no valid issue time (iat).',
    );
    await expect(verify(await craft({ iat: now() - 600, exp: now() - 120 }))).rejects.toThrow(
      'The token has expired.',
    );
    // Within the clock skew (60 s) an expiry just passed is still accepted.
    await expect(verify(await craft({ iat: now() - 600, exp: now() - 30 }))).resolves.toBeDefined();
  });

  it('enforces the maximum lifetime (exp - iat)', async () => {
    await expect(verify(await craft({ iat: now(), exp: now() + 24 * 3600 }))).resolves.toBeDefined();
    await expect(verify(await craft({ iat: now(), exp: now() + 24 * 3600 + 1 }))).rejects.toThrow(
      'The token lives 86401 s (exp - iat); at most 86400 s (AUTH_MAX_TOKEN_LIFETIME) is accepted.',
    );
    const strict = createTokenVerifier({
      ...cfgBase,
      AUTH_JWKS_FILE: files.jwksFile,
      AUTH_MAX_TOKEN_LIFETIME: 600,
    });
    await expect(
      strict(await signToken(key, claims, { subject: 'c', roles: ['customer'] }, '11m')),
    ).rejects.toThrow(/at most 600 s/);
    // A backdated iat does not stretch the lifetime either.
    await expect(verify(await craft({ iat: now() - 30 * 3600, exp: now() + 3600 }))).rejects.toThrow(/lives/);
  });

  it('refuses nbf and iat in the future beyond the clock skew', async () => {
    await expect(
      verify(await craft({ iat: now(), nbf: now() + 30, exp: now() + 3600 })),
    ).resolves.toBeDefined();
    await expect(verify(await craft({ iat: now(), nbf: now() + 120, exp: now() + 3600 }))).rejects.toThrow(
      'The token is not valid yet (its nbf is in the future).',
    );
    await expect(verify(await craft({ iat: now() + 30, exp: now() + 3600 }))).resolves.toBeDefined();
    await expect(verify(await craft({ iat: now() + 120, exp: now() + 3600 }))).rejects.toThrow(
      'The token was issued in the future (its iat is ahead of this clock).',
    );
  });

  it('checks issuer, audience, subject and roles', async () => {
    const t = { iat: now(), exp: now() + 60 };
    await expect(verify(await craft({ ...t, iss: 'elsewhere' }))).rejects.toThrow(
      `The token's issuer is not "dispatch".`,
    );
    await expect(verify(await craft({ ...t, aud: 'elsewhere' }))).rejects.toThrow(
      `The token's audience is not "dispatch-api".`,
    );
    await expect(verify(await craft({ ...t, roles: [] }))).rejects.toThrow(/roles/);
    await expect(verify(await craft({ ...t, roles: ['root'] }))).rejects.toThrow(/roles/);
    await expect(verify(await craft({ ...t, sub: undefined }))).rejects.toThrow(/subject/);
    await expect(verify(await craft({ ...t, sub: 'c' }))).resolves.toBeDefined();
  });

  it('every refusal is a 401 UnauthorizedError', async () => {
    await expect(verify(await craft({ iat: now() }))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(verify(await craft({ iat: now() }))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });
});

describe('key rotation with a JWKS file', () => {
  it('verifies tokens of both keys while both are in the JWKS, and refuses the retired one after', async () => {
    const oldToken = await signToken(key, claims, { subject: 'c', roles: ['customer'] });
    await expect(verify(oldToken)).resolves.toBeDefined();
    const { added } = rotateKeyFiles(files);
    expect(added.kid).not.toBe(key.kid);
    const newToken = await signToken(added, claims, { subject: 'c', roles: ['customer'] });
    await expect(verify(newToken)).resolves.toBeDefined(); // picked up at once: unknown kid re-reads the file
    await expect(verify(oldToken)).resolves.toBeDefined();
    retireKeyFiles(files);
    await expect(verify(oldToken)).rejects.toThrow(`kid "${key.kid}"`);
    await expect(verify(newToken)).resolves.toBeDefined();
  });

  it('a new key is picked up when a token names it, even between periodic checks', async () => {
    const slow = createTokenVerifier(
      { ...cfgBase, AUTH_JWKS_FILE: files.jwksFile },
      { fileCheckIntervalMs: 3_600_000 },
    );
    const { added } = rotateKeyFiles(files);
    await expect(
      slow(await signToken(added, claims, { subject: 'c', roles: ['customer'] })),
    ).resolves.toBeDefined();
  });

  it('keeps its keys when the file turns bad, and refuses to start on a bad file', async () => {
    writeFileSync(files.jwksFile, '{ not json');
    await expect(
      verify(await signToken(key, claims, { subject: 'c', roles: ['customer'] })),
    ).resolves.toBeDefined();
    expect(() => createTokenVerifier({ ...cfgBase, AUTH_JWKS_FILE: files.jwksFile })).toThrow(/not JSON/);
    expect(() => createTokenVerifier({ ...cfgBase, AUTH_JWKS_FILE: path.join(dir, 'missing.json') })).toThrow(
      /cannot be read/,
    );
  });
});

describe('parsePublicJwks', () => {
  const pub = () => publicJwkOf(generateSigningKey('EdDSA'));
  it('takes public Ed25519 and RSA keys with unique kids', () => {
    const rsa = publicJwkOf(generateSigningKey('RS256'));
    expect(rsa).not.toHaveProperty('d');
    expect(rsa).not.toHaveProperty('p');
    expect(parsePublicJwks({ keys: [pub(), rsa] }, 'f').keys).toHaveLength(2);
  });
  it('refuses private key material, symmetric keys, missing or duplicate kids, empty sets', () => {
    expect(() => parsePublicJwks({ keys: [generateSigningKey('EdDSA')] }, 'f')).toThrow(
      /private key material \(d\)/,
    );
    expect(() => parsePublicJwks({ keys: [{ kty: 'oct', k: 'abc', kid: 'x' }] }, 'f')).toThrow(/oct/);
    expect(() => parsePublicJwks({ keys: [{ ...pub(), kid: undefined }] }, 'f')).toThrow(/no kid/);
    const one = pub();
    expect(() => parsePublicJwks({ keys: [one, { ...pub(), kid: one.kid }] }, 'f')).toThrow(/twice/);
    expect(() => parsePublicJwks({ keys: [] }, 'f')).toThrow(/no keys/);
    expect(() => parsePublicJwks({ keys: [{ ...pub(), alg: 'HS256' }] }, 'f')).toThrow(/alg HS256/);
    expect(() => parsePublicJwks([], 'f')).toThrow(/not a JWKS/);
  });
});

describe('auth config', () => {
  const schema = requireAuth(z.object({ ...authEnv }));
  it('needs exactly one of AUTH_JWKS_FILE and AUTH_JWKS_URL', () => {
    expect(() => parseConfig('svc', schema, {})).toThrow(/AUTH_JWKS_URL: set exactly one/);
    expect(() =>
      parseConfig('svc', schema, { AUTH_JWKS_FILE: '/x.json', AUTH_JWKS_URL: 'https://idp.example/jwks' }),
    ).toThrow(/set exactly one/);
    expect(parseConfig('svc', schema, { AUTH_JWKS_FILE: '/x.json' })).toMatchObject({
      AUTH_JWKS_FILE: '/x.json',
      AUTH_MAX_TOKEN_LIFETIME: 86_400,
      AUTH_CLOCK_SKEW: 60,
      AUTH_JWT_ISSUER: 'dispatch',
      AUTH_JWT_AUDIENCE: 'dispatch-api',
    });
  });
  it('refuses the old HS256 secret, plain http JWKS URLs off this host, bad durations', () => {
    expect(() =>
      parseConfig('svc', schema, { AUTH_JWKS_FILE: '/x', AUTH_JWT_SECRET: 'x'.repeat(40) }),
    ).toThrow(/AUTH_JWT_SECRET: HS256 shared secrets are no longer accepted/);
    expect(() => parseConfig('svc', schema, { AUTH_JWKS_URL: 'http://idp.example/jwks' })).toThrow(/https/);
    expect(parseConfig('svc', schema, { AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks' }).AUTH_JWKS_URL).toBe(
      'http://127.0.0.1:9999/jwks',
    );
    expect(() =>
      parseConfig('svc', schema, { AUTH_JWKS_FILE: '/x', AUTH_MAX_TOKEN_LIFETIME: 'forever' }),
    ).toThrow(/AUTH_MAX_TOKEN_LIFETIME/);
    expect(() => parseConfig('svc', schema, { AUTH_JWKS_FILE: '/x', AUTH_CLOCK_SKEW: '1h' })).toThrow(
      /AUTH_CLOCK_SKEW/,
    );
    expect(
      parseConfig('svc', schema, {
        AUTH_JWKS_FILE: '/x',
        AUTH_MAX_TOKEN_LIFETIME: '8h',
        AUTH_CLOCK_SKEW: '30',
      }),
    ).toMatchObject({ AUTH_MAX_TOKEN_LIFETIME: 28_800, AUTH_CLOCK_SKEW: 30 });
  });
});
