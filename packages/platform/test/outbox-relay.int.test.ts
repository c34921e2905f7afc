import { TRACEPARENT_HEADER, topicForEventType } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import { createMetrics } from '../src/metrics';
import { enqueue } from '../src/outbox';
import { withTransaction } from '../src/pg';
import {
  expectExactlyOnceInOrder,
  outOfOrderCommits,
  published,
  randomHold,
  roundRobin,
  TRACEPARENT,
  unsentCount,
  useOutboxRelay,
} from './helpers/outbox';

/** Publishing: exactly once and in order, with its headers, on NOTIFY, at stop(); its gauges and retention. */
describe('OutboxRelay against real Kafka', () => {
  const t = useOutboxRelay();
  const { newRelay, writeOneByOne } = t;

  it('publishes every row exactly once, in per-key order, while 8 writers commit out of id order', async () => {
    const metrics = createMetrics('outbox-test');
    const relay = newRelay({ batchSize: 20, metrics });
    await relay.start();

    const writers = 8;
    const ordersPerWriter = 8;
    const orders = Array.from({ length: writers }, () =>
      Array.from({ length: ordersPerWriter }, () => sampleEvents('happy', { stepMs: 10 })),
    );
    const total = orders.flat(2).length;
    const commits: { id: bigint; eventId: string }[] = [];

    // Force a lagging commit no relay can miss by accident: writer 0 takes the first id and holds its
    // transaction until the relay has already published rows with higher ids from other writers.
    let firstIdTaken: () => void = () => undefined;
    const firstIdIsTaken = new Promise<void>((resolve) => {
      firstIdTaken = resolve;
    });
    let heldFirst = false;
    const holdForWriter0 = async () => {
      if (heldFirst) return randomHold(6)();
      heldFirst = true;
      firstIdTaken();
      await eventually(() => expect(t.harness.publishedEventIds.length).toBeGreaterThan(0), {
        timeoutMs: 30_000,
      });
    };

    await Promise.all(
      orders.map(async (writerOrders, w) => {
        if (w > 0) await firstIdIsTaken;
        await writeOneByOne(roundRobin(writerOrders), commits, w === 0 ? holdForWriter0 : randomHold(6));
      }),
    );

    expect(commits).toHaveLength(total);
    expect(outOfOrderCommits(commits)).toBeGreaterThan(0);

    await published(relay, t.db);
    expect(await unsentCount(t.db)).toBe(0);
    expect(await t.harness.recordCount()).toBe(total);

    // The relay really did publish a lower id after a higher one (the row a cursor would have skipped).
    const idByEventId = new Map(commits.map((c) => [c.eventId, c.id]));
    expect(
      outOfOrderCommits(t.harness.publishedEventIds.map((e) => ({ id: idByEventId.get(e) ?? -1n }))),
    ).toBeGreaterThan(0);

    await t.harness.startConsumer();
    await eventually(() => expect(t.harness.consumed.length).toBeGreaterThanOrEqual(total), {
      timeoutMs: 60_000,
    });
    expectExactlyOnceInOrder(orders.flat(), t.harness.consumed, t.harness);

    await relay.refreshMetrics();
    expect((await metrics.outboxPublished.get()).values[0]?.value).toBe(total);
    expect((await metrics.outboxBacklog.get()).values[0]?.value).toBe(0);
    expect((await metrics.outboxOldestAge.get()).values[0]?.value).toBe(0);
  });

  it('stamps producedAt at publish and carries headers', async () => {
    const relay = newRelay();
    await relay.start();
    const events = sampleEvents('paymentFailed', { startAt: '2020-01-01T00:00:00.000Z' });
    const before = new Date();
    await withTransaction(t.db.pool, (tx) => enqueue(tx, events, { traceparent: TRACEPARENT }));
    await published(relay, t.db);
    await t.harness.startConsumer();
    await eventually(() => expect(t.harness.consumed).toHaveLength(events.length), { timeoutMs: 60_000 });
    for (const record of t.harness.consumed) {
      expect(record.headers[TRACEPARENT_HEADER]).toBe(TRACEPARENT);
      expect(Date.parse(record.event.producedAt)).toBeGreaterThanOrEqual(before.getTime());
      expect(record.event.occurredAt.startsWith('2020-01-01')).toBe(true);
    }
  });

  it('wakes on NOTIFY: a commit is published within seconds although the poll interval is 30 s', async () => {
    const relay = newRelay({ pollIntervalMs: 30_000 });
    await relay.start();
    // After this pass the relay sleeps for 30 s unless a notification wakes it.
    await published(relay, t.db);
    expect(relay.isLeader).toBe(true);

    const events = sampleEvents('inventoryRejected');
    await withTransaction(t.db.pool, (tx) => enqueue(tx, events));
    await eventually(async () => expect(await unsentCount(t.db)).toBe(0), { timeoutMs: 10_000 });
    expect(await t.harness.recordCount()).toBe(events.length);
  });

  it('stop() publishes what is already committed before it returns', async () => {
    const relay = newRelay({ pollIntervalMs: 30_000, batchSize: 25 });
    await relay.start();
    await published(relay, t.db);
    // Rows written without a notification: nothing wakes the relay for 30 s except stop().
    const events = Array.from({ length: 10 }, () => sampleEvents('happy')).flat();
    await t.db.pool.query(
      `INSERT INTO outbox (topic, message_key, event_id, event_type, payload)
       SELECT e->>'topic', e->'event'->>'orderId', (e->'event'->>'eventId')::uuid, e->'event'->>'eventType', e->'event'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`,
      [JSON.stringify(events.map((event) => ({ topic: topicForEventType(event.eventType), event })))],
    );
    expect(await unsentCount(t.db)).toBe(events.length);
    await relay.stop();
    expect(await unsentCount(t.db)).toBe(0);
    expect(await t.harness.recordCount()).toBe(events.length);
    expect(relay.isLeader).toBe(false);
  });

  it('reports the backlog in its gauges', async () => {
    const metrics = createMetrics('outbox-test');
    const relay = newRelay({ metrics });
    const events = sampleEvents('happy');
    await withTransaction(t.db.pool, (tx) => enqueue(tx, events));
    await t.db.pool.query(`UPDATE outbox SET created_at = now() - interval '90 seconds'`);

    expect(await relay.refreshMetrics()).toEqual({
      rows: events.length,
      oldestAgeSeconds: expect.any(Number),
    });
    expect((await metrics.outboxBacklog.get()).values[0]?.value).toBe(events.length);
    expect((await metrics.outboxOldestAge.get()).values[0]?.value).toBeGreaterThanOrEqual(90);

    await relay.start();
    await published(relay, t.db);
    await relay.refreshMetrics();
    expect((await metrics.outboxBacklog.get()).values[0]?.value).toBe(0);
    expect((await metrics.outboxOldestAge.get()).values[0]?.value).toBe(0);
    expect((await metrics.outboxPublished.get()).values[0]?.value).toBe(events.length);
  });

  it('deletes sent rows past the retention and keeps the rest', async () => {
    const relay = newRelay({ retentionMs: 3_600_000 });
    const old = sampleEvents('inventoryRejected');
    const recent = sampleEvents('paymentFailed');
    const unsent = sampleEvents('happy');
    await withTransaction(t.db.pool, (tx) => enqueue(tx, [...old, ...recent, ...unsent]));
    await t.db.pool.query(
      `UPDATE outbox SET sent_at = now() - interval '2 hours' WHERE event_id = ANY($1::uuid[])`,
      [old.map((e) => e.eventId)],
    );
    await t.db.pool.query(
      `UPDATE outbox SET sent_at = now() - interval '10 minutes' WHERE event_id = ANY($1::uuid[])`,
      [recent.map((e) => e.eventId)],
    );

    expect(await relay.cleanup()).toBe(old.length);
    const { rows } = await t.db.pool.query<{ event_id: string }>('SELECT event_id FROM outbox ORDER BY id');
    expect(rows.map((r) => r.event_id)).toEqual([...recent, ...unsent].map((e) => e.eventId));
  });
});
