import type { AnyEvent } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { openSse, reopenSse, type SseClient, shortId } from '@dispatch/testkit';
import { TEST_ISSUER, testConfig, useLiveQueryApi } from './helpers';

/** A customer token that expires `ttl` from now ('3s'). */
const shortLivedToken = (subject: string, ttl: string) => TEST_ISSUER.sign(subject, 'customer', { ttl });

describe('order streams per customer and token expiry (real Kafka, Cassandra and Redis)', () => {
  const config = testConfig({ SSE_MAX_STREAMS_PER_CUSTOMER: '2', SSE_HEARTBEAT_MS: '200' });
  const live = useLiveQueryApi(config);

  /** A customer with one order the read model knows. */
  async function customerWithOrder(): Promise<{ customerId: string; url: string }> {
    const customerId = `customer-${shortId()}`;
    const created = sampleEvents('happy', { customerId })[0] as AnyEvent;
    await live.api.applyEvent(created);
    return { customerId, url: `${live.api.base}/api/orders/${created.orderId}/events` };
  }

  it('lets a customer hold at most SSE_MAX_STREAMS_PER_CUSTOMER streams, 429 beyond, and frees a slot on disconnect', async () => {
    const { customerId, url } = await customerWithOrder();
    const token = await TEST_ISSUER.sign(customerId);
    const streams: SseClient[] = [];
    try {
      streams.push(await openSse(url, token), await openSse(url, token));
      expect(streams.map((s) => s.status)).toEqual([200, 200]);

      const refused = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('30');
      expect(await refused.json()).toMatchObject({
        type: 'https://dispatch.dev/problems/too-many-streams-per-customer',
        status: 429,
        limit: 2,
      });
      // Another token of the same customer counts against the same slots.
      const sameCustomer = await fetch(url, {
        headers: { authorization: `Bearer ${await shortLivedToken(customerId, '1h')}` },
      });
      expect(sameCustomer.status).toBe(429);
      await sameCustomer.body?.cancel();

      // Another customer is not held back by this one.
      const other = await customerWithOrder();
      const theirs = await openSse(other.url, await TEST_ISSUER.sign(other.customerId));
      streams.push(theirs);
      expect(theirs.status).toBe(200);

      streams[0]?.close();
      await reopenSse(streams, url, token);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('ends a stream when its token expires, says so, and frees its slot', async () => {
    const { customerId, url } = await customerWithOrder();
    const stream = await openSse(url, await shortLivedToken(customerId, '3s'));
    const streams = [stream];
    try {
      expect(stream.status).toBe(200);
      expect((await stream.next()).event).toBe('order');
      const frame = await stream.next(10_000);
      expect(frame.event).toBe('token-expired');
      const { expiredAt } = JSON.parse(frame.data) as { expiredAt: string };
      // Not before the token's expiry (exp has whole seconds), and promptly after it.
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiredAt));
      expect(Date.now() - Date.parse(expiredAt)).toBeLessThan(2_000);
      await stream.ended;
      await expect(stream.next(1_000)).rejects.toThrow(/ended/);

      // Both slots are free again: the expired stream gave its lease back.
      const token = await TEST_ISSUER.sign(customerId);
      await reopenSse(streams, url, token);
      const second = await openSse(url, token);
      streams.push(second);
      expect(second.status).toBe(200);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('carries the read limit headers on a stream', async () => {
    const { customerId, url } = await customerWithOrder();
    const stream = await openSse(url, await TEST_ISSUER.sign(customerId));
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('ratelimit-policy')).toMatch(/^"read";q=\d+;w=\d+$/);
      expect(stream.headers.get('ratelimit')).toMatch(/^"read";r=\d+;t=\d+$/);
    } finally {
      stream.close();
    }
  });
});
