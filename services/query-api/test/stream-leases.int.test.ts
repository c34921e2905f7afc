import { randomUUID } from 'node:crypto';
import { createRedis, type Redis, redisReady } from '@dispatch/platform';
import { eventually, stackAddresses } from '@dispatch/testkit';
import { StreamLeases } from '../src/http/stream-leases';
import { testLogger } from './helpers';

const { redisUrl } = stackAddresses();
/** Nothing listens here: a Redis that is down. */
const DEAD_REDIS_URL = 'redis://127.0.0.1:6390';

/** Per-customer stream leases in the real Redis, under a key prefix of this run's own. */
describe('order stream leases per customer (real Redis)', () => {
  const prefix = `sse-streams-test-${randomUUID()}:`;
  const clients: Redis[] = [];

  const connected = async (url = redisUrl): Promise<Redis> => {
    const redis = createRedis(url, testLogger, 'stream-leases-test');
    clients.push(redis);
    await redisReady(redis, 3_000);
    return redis;
  };
  const leases = async (opts: { max: number; ttlMs?: number; redis?: Redis }) =>
    new StreamLeases({
      redis: opts.redis ?? (await connected()),
      max: opts.max,
      keyPrefix: prefix,
      logger: testLogger,
      ...(opts.ttlMs ? { ttlMs: opts.ttlMs } : {}),
    });
  const held = async (subject: string): Promise<number> => (await connected()).zcard(`${prefix}${subject}`);

  afterAll(async () => {
    const redis = await connected();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    for (const client of clients) client.disconnect();
  });

  it('grants up to max per customer across instances, refuses beyond, counts customers apart', async () => {
    const a = await leases({ max: 2 });
    const b = await leases({ max: 2 }); // another instance: its own Redis connection
    const subject = `customer-${randomUUID()}`;
    const first = await a.acquire(subject);
    const second = await b.acquire(subject);
    expect([first.kind, second.kind]).toEqual(['granted', 'granted']);
    expect(await a.acquire(subject)).toEqual({ kind: 'refused', held: 2 });
    expect(await b.acquire(subject)).toEqual({ kind: 'refused', held: 2 });
    expect((await a.acquire(`customer-${randomUUID()}`)).kind).toBe('granted');

    if (first.kind !== 'granted') throw new Error('unreachable');
    first.lease.release();
    first.lease.release(); // idempotent
    await eventually(async () => expect((await b.acquire(subject)).kind).toBe('granted'));
    expect(await held(subject)).toBe(2);
  });

  it('keeps a live stream lease refreshed beyond its time to live', async () => {
    const ttlMs = 600;
    const l = await leases({ max: 1, ttlMs });
    const subject = `customer-${randomUUID()}`;
    const outcome = await l.acquire(subject);
    expect(outcome.kind).toBe('granted');
    const redis = await connected();
    const [, firstScore] = await redis.zrange(`${prefix}${subject}`, 0, 0, 'WITHSCORES');
    // Refreshed: the lease now runs out well after the first time to live would have ended it.
    await eventually(
      async () => {
        const [, score] = await redis.zrange(`${prefix}${subject}`, 0, 0, 'WITHSCORES');
        expect(Number(score)).toBeGreaterThan(Number(firstScore) + 2 * ttlMs);
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(await l.acquire(subject)).toEqual({ kind: 'refused', held: 1 });
    if (outcome.kind === 'granted') outcome.lease.release();
  });

  it("frees a dead instance's slots once their leases run out", async () => {
    const ttlMs = 800;
    const dying = await connected();
    const doomed = await leases({ max: 2, ttlMs, redis: dying });
    const survivor = await leases({ max: 2, ttlMs });
    const subject = `customer-${randomUUID()}`;
    expect((await doomed.acquire(subject)).kind).toBe('granted');
    expect((await doomed.acquire(subject)).kind).toBe('granted');
    // The instance dies: its connection is gone, its refreshes fail, nothing gives the leases back.
    dying.disconnect();
    const diedAt = Date.now();
    expect((await survivor.acquire(subject)).kind).toBe('refused');
    await eventually(async () => expect((await survivor.acquire(subject)).kind).toBe('granted'), {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    // Not before the leases ran out (less the time the two acquisitions took before the death).
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(ttlMs - 200);
  });

  it('lets a stream through without a lease while Redis cannot be reached', async () => {
    const dead = createRedis(DEAD_REDIS_URL, testLogger, 'stream-leases-dead');
    clients.push(dead);
    const l = await leases({ max: 1, redis: dead });
    const outcome = await l.acquire(`customer-${randomUUID()}`);
    expect(outcome.kind).toBe('unavailable');
    if (outcome.kind === 'unavailable') outcome.lease.release();
    expect(l.retryAfterSeconds).toBe(30);
  });
});
