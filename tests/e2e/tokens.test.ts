import { randomUUID } from 'node:crypto';
import { generateSigningKey, signClaims, signToken } from '@dispatch/platform/token-issuer';
import {
  localSigningKey,
  requireRunningServices,
  SERVICE_NAMES,
  type ServiceName,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';

/**
 * Every running service verifies tokens with the local issuer's public keys only: a token from
 * `./dispatch token` (the testkit signs the same way) is let in; an HS256 token, one without exp or
 * kid, one signed by a key the JWKS does not hold, one living longer than the maximum, one issued or
 * valid only in the future: each is a 401 problem+json saying why, on each of the five services.
 */

/** One authenticated route per service; an admin may call each (404/200 both prove the token passed). */
const ROUTES: Record<string, string> = {
  'query-api': `/api/orders/${randomUUID()}`,
  'order-service': `/api/orders/${randomUUID()}/cancel`,
  'payment-service': `/api/payments/${randomUUID()}`,
  'inventory-service': '/api/inventory/items',
  'delivery-service': `/api/deliveries/${randomUUID()}`,
};
const METHOD: Record<string, string> = { 'order-service': 'POST' };
const SERVICES = SERVICE_NAMES.filter((name) => name in ROUTES) as ServiceName[];

const now = () => Math.floor(Date.now() / 1000);
const base = (sub: string) => ({ sub, roles: ['admin'], iss: 'dispatch', aud: 'dispatch-api' });

async function call(
  service: ServiceName,
  token: string,
): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const res = await fetch(`${serviceUrl(service)}${ROUTES[service]}`, {
    method: METHOD[service] ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': `e2e-tokens-${randomUUID()}`,
    },
    body: METHOD[service] === 'POST' ? JSON.stringify({ reason: 'e2e: token check' }) : undefined,
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('tokens on the running stack: public-key verification only', () => {
  beforeAll(async () => {
    await requireRunningServices(SERVICES);
  });

  const sub = `e2e-tokens-${randomUUID().slice(0, 8)}`;

  it.each(SERVICES)('%s lets in a token of the local issuer', async (service) => {
    const answer = await call(service, await tokenFor(sub, 'admin'));
    expect([200, 404, 409]).toContain(answer.status);
  });

  const refusals: [string, () => Promise<string>, string | RegExp][] = [
    [
      'an HS256 token (a shared secret)',
      () =>
        signClaims(
          { hs256Secret: 'a-shared-secret-a-shared-secret-0123456789' },
          { ...base(sub), iat: now(), exp: now() + 600 },
          { kid: localSigningKey().kid },
        ),
      'The token is signed with HS256; only EdDSA and RS256 are accepted.',
    ],
    [
      'a token without exp',
      () => signClaims(localSigningKey(), { ...base(sub), iat: now() }),
      'The token has no expiry (exp); tokens must expire.',
    ],
    [
      'a token without kid',
      () => signClaims(localSigningKey(), { ...base(sub), iat: now(), exp: now() + 600 }, { kid: undefined }),
      'The token does not name its signing key (kid).',
    ],
    [
      'a token of a key the JWKS does not hold',
      () =>
        signToken(
          generateSigningKey(),
          { issuer: 'dispatch', audience: 'dispatch-api' },
          { subject: sub, roles: ['admin'] },
        ),
      /^The token's signing key \(kid "[^"]+"\) is not one this service trusts\.$/,
    ],
    [
      'a token of a known kid but another key (forged)',
      () =>
        signToken(
          generateSigningKey('EdDSA', localSigningKey().kid),
          { issuer: 'dispatch', audience: 'dispatch-api' },
          { subject: sub, roles: ['admin'] },
        ),
      'The token signature does not verify.',
    ],
    [
      'a token living longer than 24 h',
      () => signClaims(localSigningKey(), { ...base(sub), iat: now(), exp: now() + 25 * 3600 }),
      /lives 90000 s \(exp - iat\); at most 86400 s/,
    ],
    [
      'a token issued in the future',
      () => signClaims(localSigningKey(), { ...base(sub), iat: now() + 600, exp: now() + 1200 }),
      'The token was issued in the future (its iat is ahead of this clock).',
    ],
    [
      'a token valid only from the future',
      () => signClaims(localSigningKey(), { ...base(sub), iat: now(), nbf: now() + 600, exp: now() + 1200 }),
      'The token is not valid yet (its nbf is in the future).',
    ],
    [
      'an expired token',
      () => signClaims(localSigningKey(), { ...base(sub), iat: now() - 3600, exp: now() - 600 }),
      'The token has expired.',
    ],
  ];

  describe.each(SERVICES)('%s refuses', (service) => {
    it.each(refusals)('%s', async (_name, make, detail) => {
      const answer = await call(service, await make());
      expect(answer.status).toBe(401);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body.type).toBe('https://dispatch.dev/problems/unauthorized');
      if (typeof detail === 'string') expect(answer.body.detail).toBe(detail);
      else expect(answer.body.detail).toMatch(detail);
    });
  });
});
