import { randomUUID } from 'node:crypto';
import { createTestIssuer, eventually, stackAddresses } from '@dispatch/testkit';
import { Redis } from 'ioredis';
import { authenticate, createTokenVerifier } from '../src/auth';
import { rateLimit } from '../src/rate-limit';
import { type RunningService, startService } from '../src/service';

const addresses = stackAddresses();
const issuer = createTestIssuer();
const verify = createTokenVerifier({
  AUTH_JWKS_FILE: issuer.jwksFile,
  AUTH_JWT_ISSUER: issuer.claims.issuer,
  AUTH_JWT_AUDIENCE: issuer.claims.audience,
});
const tokenOf = (subject: string) => issuer.sign(subject, 'customer');
/** Nothing listens here: a Redis that is down. */
const DEAD_REDIS_URL = 'redis://127.0.0.1:6390';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(base: string, method: string, path: string, token?: string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/**
 * A service started the way every Dispatch service starts (startService, real Kafka for its producer),
 * with per-subject limits counted in the real Redis: every route behind `authenticate` is limited
 * without asking for it. Each run has its own service name, so its own Redis keys
 * (`ratelimit:<service>:...`), which expire with their window.
 */
async function startLimited(
  name: string,
  limits: { read: number; write: number; windowMs: number },
  redisUrl = addresses.redisUrl,
): Promise<{ service: RunningService; base: string; redis: Redis }> {
  const redis = new Redis(addresses.redisUrl, { lazyConnect: true });
  const service = await startService({
    name,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    kafka: addresses.kafka,
    rateLimits: { redisUrl, ...limits },
    routes: (app) => {
      const signedIn = authenticate(verify);
      app.get('/things', signedIn, (_req, res) => void res.json({ ok: true }));
      app.post('/things', signedIn, (_req, res) => void res.status(201).json({ ok: true }));
      app.post(
        '/strict',
        signedIn,
        rateLimit({ redis, name: `${name}-strict`, limit: 1, windowMs: 60_000 }),
        (_req, res) => void res.status(201).json({ ok: true }),
      );
      app.get('/open', (_req, res) => void res.json({ ok: true }));
    },
  });
  return { service, base: `http://127.0.0.1:${service.port}`, redis };
}

describe('per-subject rate limits on every authenticated route (real Redis, startService)', () => {
  const name = `rl-${randomUUID().slice(0, 8)}`;
  let a: Awaited<ReturnType<typeof startLimited>>;
  let b: Awaited<ReturnType<typeof startLimited>>;

  beforeAll(async () => {
    a = await startLimited(name, { read: 3, write: 2, windowMs: 60_000 });
    // A second instance of the same service: the counters are shared through Redis.
    b = await startLimited(name, { read: 3, write: 2, windowMs: 60_000 });
  });

  afterAll(async () => {
    await Promise.all([a?.service.stop(), b?.service.stop()]);
    a?.redis.disconnect();
    b?.redis.disconnect();
  });

  it('lets a subject read up to the limit, says what is left, then answers 429 with Retry-After', async () => {
    const token = await tokenOf(`reader-${randomUUID()}`);
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i += 1) answers.push(await call(a.base, 'GET', '/things', token));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(answers.map((r) => r.headers.get('ratelimit'))).toEqual([
      expect.stringMatching(/^"read";r=2;t=\d+$/),
      expect.stringMatching(/^"read";r=1;t=\d+$/),
      expect.stringMatching(/^"read";r=0;t=\d+$/),
    ]);
    expect(answers[0]?.headers.get('ratelimit-policy')).toBe('"read";q=3;w=60');

    const refused = await call(a.base, 'GET', '/things', token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ type: 'https://dispatch.dev/problems/rate-limited', status: 429 });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit')).toBe(`"read";r=0;t=${retryAfter}`);
  });

  it('counts writes apart from reads, and each subject apart', async () => {
    const subject = `writer-${randomUUID()}`;
    const token = await tokenOf(subject);
    for (let i = 0; i < 3; i += 1) expect((await call(a.base, 'GET', '/things', token)).status).toBe(200);
    expect((await call(a.base, 'GET', '/things', token)).status).toBe(429);

    const writes = [
      await call(a.base, 'POST', '/things', token),
      await call(a.base, 'POST', '/things', token),
    ];
    expect(writes.map((w) => w.status)).toEqual([201, 201]);
    expect(writes[0]?.headers.get('ratelimit-policy')).toBe('"write";q=2;w=60');
    expect((await call(a.base, 'POST', '/things', token)).status).toBe(429);

    const other = await tokenOf(`other-${randomUUID()}`);
    expect((await call(a.base, 'GET', '/things', other)).status).toBe(200);
  });

  it('shares one budget between the instances of a service', async () => {
    const token = await tokenOf(`both-${randomUUID()}`);
    const statuses = [];
    for (const base of [a.base, b.base, a.base, b.base])
      statuses.push((await call(base, 'GET', '/things', token)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('keeps a stricter route limit on top, both in the headers', async () => {
    const token = await tokenOf(`strict-${randomUUID()}`);
    const first = await call(a.base, 'POST', '/strict', token);
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-policy')).toBe(`"write";q=2;w=60, "${name}-strict";q=1;w=60`);
    expect(first.headers.get('ratelimit')).toMatch(
      new RegExp(`^"write";r=1;t=\\d+, "${name}-strict";r=0;t=\\d+$`),
    );
    const second = await call(a.base, 'POST', '/strict', token);
    expect(second.status).toBe(429);
    expect(second.headers.get('ratelimit')).toMatch(new RegExp(`"${name}-strict";r=0;t=\\d+$`));
  });

  it('does not count requests without a valid token, nor routes without authentication', async () => {
    const noToken = await call(a.base, 'GET', '/things');
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('ratelimit')).toBeNull();
    const open = await call(a.base, 'GET', '/open');
    expect(open.status).toBe(200);
    expect(open.headers.get('ratelimit')).toBeNull();
  });

  it('counts every decision on /metrics', async () => {
    const text = await (await fetch(`${a.base}/metrics`)).text();
    expect(text).toMatch(
      /^rate_limit_checks_total\{policy="read",outcome="allowed",service="[^"]+"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^rate_limit_checks_total\{policy="read",outcome="limited",service="[^"]+"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^rate_limit_checks_total\{policy="write",outcome="unavailable",service="[^"]+"\} 0$/m,
    );
  });
});

describe('rate-limit windows and outages', () => {
  it('allows the subject again once the window has passed', async () => {
    const short = await startLimited(`rl-${randomUUID().slice(0, 8)}`, {
      read: 1,
      write: 1,
      windowMs: 1_000,
    });
    try {
      const token = await tokenOf(`patient-${randomUUID()}`);
      expect((await call(short.base, 'GET', '/things', token)).status).toBe(200);
      const refused = await call(short.base, 'GET', '/things', token);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      await eventually(
        async () => expect((await call(short.base, 'GET', '/things', token)).status).toBe(200),
        {
          timeoutMs: 5_000,
          intervalMs: 200,
        },
      );
    } finally {
      await short.service.stop();
      short.redis.disconnect();
    }
  });

  it('lets requests through while Redis cannot be reached, and counts them as unavailable', async () => {
    const blind = await startLimited(
      `rl-${randomUUID().slice(0, 8)}`,
      { read: 1, write: 1, windowMs: 60_000 },
      DEAD_REDIS_URL,
    );
    try {
      const token = await tokenOf(`lucky-${randomUUID()}`);
      const statuses = [];
      for (let i = 0; i < 3; i += 1) {
        const answer = await call(blind.base, 'GET', '/things', token);
        statuses.push(answer.status);
        expect(answer.headers.get('ratelimit')).toBeNull();
      }
      expect(statuses).toEqual([200, 200, 200]);
      const text = await (await fetch(`${blind.base}/metrics`)).text();
      expect(text).toMatch(
        /^rate_limit_checks_total\{policy="read",outcome="unavailable",service="[^"]+"\} 3$/m,
      );
    } finally {
      await blind.service.stop();
      blind.redis.disconnect();
    }
  });
});
