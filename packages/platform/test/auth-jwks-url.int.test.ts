import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@dispatch/testkit';
import { z } from 'zod';
import {
  authEnv,
  authenticate,
  createTokenVerifier,
  principalOf,
  requireAuth,
  type TokenVerifierOptions,
} from '../src/auth';
import { parseConfig } from '../src/config';
import { createHttpApp, type HttpApp } from '../src/http';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { generateSigningKey, publicJwks, type SigningKey, signClaims, signToken } from '../src/token-issuer';

/**
 * AUTH_JWKS_URL end to end: a real HTTP server plays the identity provider's JWKS endpoint, a real
 * HTTP app (createHttpApp, the services' own) verifies bearer tokens against it. Proves caching,
 * rotation (two keys at once, a new kid fetched on first sight), a dropped key refused once the cache
 * expires, an unknown kid refused, and an unreachable provider answered 503, not 401 or 500.
 */

const claims = { issuer: 'dispatch', audience: 'dispatch-api' };
const now = () => Math.floor(Date.now() / 1000);

/** The identity provider's JWKS endpoint: serves `keys` (public halves only), counts fetches. */
class JwksEndpoint {
  keys: SigningKey[] = [];
  fetches = 0;
  private server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    this.fetches += 1;
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json' })
      .end(JSON.stringify(publicJwks(this.keys)));
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A service's HTTP app with one route behind `authenticate`, verifying through the URL. */
async function startApp(
  jwksUrl: string,
  opts: TokenVerifierOptions,
): Promise<{ http: HttpApp; call: (token?: string) => Promise<Answer> }> {
  const config = parseConfig('auth-it', requireAuth(z.object({ ...authEnv })), { AUTH_JWKS_URL: jwksUrl });
  const verify = createTokenVerifier(config, opts);
  const http = createHttpApp({
    service: 'auth-it',
    logger: createLogger('auth-it', 'silent'),
    metrics: createMetrics('auth-it'),
    readinessChecks: [],
    routes: (app) => {
      app.get('/me', authenticate(verify), (_req, res) => void res.json(principalOf(res)));
    },
  });
  const base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  const call = async (token?: string): Promise<Answer> => {
    const res = await fetch(`${base}/me`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  return { http, call };
}

const tokenOf = (key: SigningKey, subject = 'customer-1') =>
  signToken(key, claims, { subject, roles: ['customer'] });

describe('tokens verified through AUTH_JWKS_URL (a real JWKS endpoint and HTTP app)', () => {
  const idp = new JwksEndpoint();
  const keyA = generateSigningKey('EdDSA');
  const keyB = generateSigningKey('RS256');
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    await idp.start();
    idp.keys = [keyA];
    app = await startApp(idp.url, { jwksCooldownMs: 0, jwksCacheMaxAgeMs: 400 });
  });
  afterAll(async () => {
    await app?.http.close();
    await idp.stop();
  });

  it('accepts a token of the provider’s key and fetches the JWKS once for several requests', async () => {
    const token = await tokenOf(keyA);
    const before = idp.fetches;
    const first = await app.call(token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ subject: 'customer-1', roles: ['customer'] });
    expect((await app.call(token)).status).toBe(200);
    expect((await app.call(token)).status).toBe(200);
    expect(idp.fetches - before).toBe(1);
  });

  it('rotation: with two keys published, tokens of either verify; a new kid is fetched on first sight', async () => {
    const tokenA = await tokenOf(keyA);
    expect((await app.call(tokenA)).status).toBe(200);
    idp.keys = [keyA, keyB];
    const before = idp.fetches;
    const tokenB = await tokenOf(keyB, 'customer-2');
    const answer = await app.call(tokenB); // kid B is unknown to the cached set: fetched again, at once
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ subject: 'customer-2' });
    expect(idp.fetches).toBeGreaterThan(before);
    expect((await app.call(tokenA)).status).toBe(200);
  });

  it('refuses a token whose kid the provider does not publish, and one without kid, with the reason', async () => {
    idp.keys = [keyA, keyB];
    const stranger = generateSigningKey('EdDSA');
    const unknown = await app.call(await tokenOf(stranger));
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({
      type: 'https://dispatch.dev/problems/unauthorized',
      detail: `The token's signing key (kid "${stranger.kid}") is not one this service trusts.`,
    });
    const noKid = await app.call(
      await signClaims(
        keyA,
        { sub: 'c', roles: ['customer'], ...claimsOf(), iat: now(), exp: now() + 60 },
        { kid: undefined },
      ),
    );
    expect(noKid.status).toBe(401);
    expect(noKid.body.detail).toBe('The token does not name its signing key (kid).');
  });

  it('refuses HS256, a missing exp and a lifetime over the maximum, with the reason', async () => {
    const hs256 = await app.call(
      await signClaims(
        { hs256Secret: 'a-shared-secret-a-shared-secret-0123456789' },
        { sub: 'c', roles: ['admin'], ...claimsOf(), iat: now(), exp: now() + 60 },
        { kid: keyA.kid },
      ),
    );
    expect(hs256).toMatchObject({
      status: 401,
      body: { detail: 'The token is signed with HS256; only EdDSA and RS256 are accepted.' },
    });
    const noExp = await app.call(
      await signClaims(keyA, { sub: 'c', roles: ['customer'], ...claimsOf(), iat: now() }),
    );
    expect(noExp).toMatchObject({
      status: 401,
      body: { detail: 'The token has no expiry (exp); tokens must expire.' },
    });
    const tooLong = await app.call(
      await signToken(keyA, claims, { subject: 'c', roles: ['customer'] }, '25h'),
    );
    expect(tooLong.status).toBe(401);
    expect(tooLong.body.detail).toMatch(/at most 86400 s \(AUTH_MAX_TOKEN_LIFETIME\)/);
  });

  it('once the provider drops a key and the cache expires, its tokens are refused', async () => {
    idp.keys = [keyA, keyB];
    const tokenA = await tokenOf(keyA);
    const tokenB = await tokenOf(keyB);
    expect((await app.call(tokenA)).status).toBe(200);
    idp.keys = [keyB];
    await eventually(async () => expect((await app.call(tokenA)).status).toBe(401), { timeoutMs: 5_000 });
    expect((await app.call(tokenA)).body.detail).toMatch(`kid "${keyA.kid}"`);
    expect((await app.call(tokenB)).status).toBe(200);
  });

  it('an unreachable provider is a 503 auth-unavailable with Retry-After, not a 401 or a 500', async () => {
    const gone = new JwksEndpoint();
    await gone.start();
    const deadUrl = gone.url;
    await gone.stop();
    const orphan = await startApp(deadUrl, { jwksTimeoutMs: 1_000 });
    try {
      const answer = await orphan.call(await tokenOf(keyA));
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.body).toMatchObject({ type: 'https://dispatch.dev/problems/auth-unavailable' });
    } finally {
      await orphan.http.close();
    }
  });
});

function claimsOf() {
  return { iss: claims.issuer, aud: claims.audience };
}
