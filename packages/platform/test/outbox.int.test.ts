import { type AnyEvent, TRACEPARENT_HEADER, topicForEventType } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import pg from 'pg';
import type { EventPublisher } from '../src/kafka/publisher';
import { createMetrics } from '../src/metrics';
import { enqueue, OUTBOX_CHANNEL, readOutboxBacklog } from '../src/outbox';
import { OutboxRelay, type OutboxRelayOptions } from '../src/outbox-relay';
import { clientConfig, withTransaction } from '../src/pg';
import { createTestDatabase, type TestDatabase, testLogger } from './helpers/pg';
import { type ConsumedRecord, createKafkaHarness, type KafkaHarness } from './helpers/pg-outbox-kafka';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function unsentCount(db: TestDatabase): Promise<number> {
  return (await readOutboxBacklog(db.pool)).rows;
}

/** Resolves once `relay` leads and the outbox has nothing unsent (nothing committed is left to publish). */
async function published(relay: OutboxRelay, db: TestDatabase): Promise<void> {
  await eventually(
    async () => {
      expect(relay.isLeader).toBe(true);
      expect(await unsentCount(db)).toBe(0);
    },
    { timeoutMs: 30_000 },
  );
}

/** Interleaves the orders' event lists (one event of each order in turn), keeping each order's own order. */
function roundRobin(orders: AnyEvent[][]): AnyEvent[] {
  const out: AnyEvent[] = [];
  const longest = Math.max(...orders.map((o) => o.length));
  for (let i = 0; i < longest; i += 1) {
    for (const order of orders) {
      const event = order[i];
      if (event) out.push(event);
    }
  }
  return out;
}

/**
 * Every written event was consumed exactly once, on the topic of its type, keyed by its orderId, and
 * each order's events arrived on each topic in the order they were written.
 */
function expectExactlyOnceInOrder(written: AnyEvent[][], consumed: ConsumedRecord[], harness: KafkaHarness) {
  const all = written.flat();
  const seen = new Map<string, number>();
  for (const record of consumed) seen.set(record.event.eventId, (seen.get(record.event.eventId) ?? 0) + 1);
  const duplicates = [...seen].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  expect(consumed).toHaveLength(all.length);
  expect(new Set(seen.keys())).toEqual(new Set(all.map((e) => e.eventId)));

  for (const record of consumed) {
    expect(record.topic).toBe(harness.topicFor(topicForEventType(record.event.eventType)));
    expect(record.key).toBe(record.event.orderId);
  }
  // Per key and topic, Kafka order (one key lives on one partition, so consumed order is offset order).
  const consumedOrder = new Map<string, string[]>();
  for (const record of consumed) {
    const k = `${record.topic}|${record.key}`;
    consumedOrder.set(k, [...(consumedOrder.get(k) ?? []), record.event.eventId]);
  }
  const writtenOrder = new Map<string, string[]>();
  for (const event of all) {
    const k = `${harness.topicFor(topicForEventType(event.eventType))}|${event.orderId}`;
    writtenOrder.set(k, [...(writtenOrder.get(k) ?? []), event.eventId]);
  }
  expect(consumedOrder).toEqual(writtenOrder);
}

describe('enqueue', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('outbox_enqueue');
  });

  afterEach(() => db.drop());

  it('writes one row per event, ids in array order, topic by type, key = orderId, headers kept', async () => {
    const events = sampleEvents('happy');
    const ids = await withTransaction(db.pool, (tx) => enqueue(tx, events, { traceparent: TRACEPARENT }));
    expect(ids).toHaveLength(events.length);
    expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(ids);

    const { rows } = await db.pool.query(
      'SELECT id, topic, message_key, event_id, event_type, payload, headers, sent_at FROM outbox ORDER BY id',
    );
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
    for (const [i, event] of events.entries()) {
      expect(rows[i]).toMatchObject({
        id: ids[i],
        topic: topicForEventType(event.eventType),
        message_key: event.orderId,
        event_type: event.eventType,
        payload: JSON.parse(JSON.stringify(event)),
        headers: { [TRACEPARENT_HEADER]: TRACEPARENT },
        sent_at: null,
      });
    }
  });

  it('writes nothing when the transaction rolls back', async () => {
    await expect(
      withTransaction(db.pool, async (tx) => {
        await enqueue(tx, sampleEvents('paymentFailed'));
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect(await unsentCount(db)).toBe(0);
  });

  it('refuses to enqueue the same event twice', async () => {
    const [event] = sampleEvents('inventoryRejected');
    if (!event) throw new Error('no sample event');
    await withTransaction(db.pool, (tx) => enqueue(tx, [event]));
    const error = await withTransaction(db.pool, (tx) => enqueue(tx, [event])).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: '23505' });
  });

  it('notifies the outbox channel on commit, not before', async () => {
    const listener = new pg.Client(clientConfig(db.config));
    await listener.connect();
    const notifications: string[] = [];
    listener.on('notification', (msg) => notifications.push(msg.channel));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
    const tx = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      await enqueue(tx, sampleEvents('inventoryRejected'));
      // Round-trip on the listener: a notification sent now would have arrived with this reply.
      await listener.query('SELECT 1');
      expect(notifications).toEqual([]);
      await tx.query('COMMIT');
      await eventually(() => expect(notifications).toEqual([OUTBOX_CHANNEL]));
    } finally {
      tx.release();
      await listener.end();
    }
  });
});

describe('OutboxRelay against real Kafka', () => {
  let db: TestDatabase;
  let harness: KafkaHarness;
  const relays: OutboxRelay[] = [];

  beforeEach(async () => {
    db = await createTestDatabase('outbox_relay');
    harness = await createKafkaHarness();
  });

  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await harness.close();
    await db.drop();
  });

  function newRelay(opts: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const relay = new OutboxRelay({
      pool: db.pool,
      publisher: harness.publisher,
      logger: testLogger,
      connectionConfig: clientConfig(db.config),
      initialBackoffMs: 20,
      ...opts,
    });
    relays.push(relay);
    return relay;
  }

  /** Commits each event in its own transaction, holding it open for `hold()` after the insert took its id. */
  async function writeOneByOne(
    events: AnyEvent[],
    commits: { id: bigint; eventId: string }[],
    hold: (id: bigint) => Promise<void>,
  ): Promise<void> {
    for (const event of events) {
      const tx = await db.pool.connect();
      try {
        await tx.query('BEGIN');
        const [id] = await enqueue(tx, [event]);
        await hold(BigInt(id ?? '0'));
        await tx.query('COMMIT');
        commits.push({ id: BigInt(id ?? '0'), eventId: event.eventId });
      } catch (err) {
        await tx.query('ROLLBACK');
        throw err;
      } finally {
        tx.release();
      }
    }
  }

  function randomHold(maxMs: number): () => Promise<void> {
    return () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * maxMs)));
  }

  /** Commits where a lower id committed after a higher one had already committed. */
  function outOfOrderCommits(commits: { id: bigint }[]): number {
    let highest = -1n;
    let late = 0;
    for (const { id } of commits) {
      if (id < highest) late += 1;
      else highest = id;
    }
    return late;
  }

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
      await eventually(() => expect(harness.publishedEventIds.length).toBeGreaterThan(0), {
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

    await published(relay, db);
    expect(await unsentCount(db)).toBe(0);
    expect(await harness.recordCount()).toBe(total);

    // The relay really did publish a lower id after a higher one (the row a cursor would have skipped).
    const idByEventId = new Map(commits.map((c) => [c.eventId, c.id]));
    expect(
      outOfOrderCommits(harness.publishedEventIds.map((e) => ({ id: idByEventId.get(e) ?? -1n }))),
    ).toBeGreaterThan(0);

    await harness.startConsumer();
    await eventually(() => expect(harness.consumed.length).toBeGreaterThanOrEqual(total), {
      timeoutMs: 60_000,
    });
    expectExactlyOnceInOrder(orders.flat(), harness.consumed, harness);

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
    await withTransaction(db.pool, (tx) => enqueue(tx, events, { traceparent: TRACEPARENT }));
    await published(relay, db);
    await harness.startConsumer();
    await eventually(() => expect(harness.consumed).toHaveLength(events.length), { timeoutMs: 60_000 });
    for (const record of harness.consumed) {
      expect(record.headers[TRACEPARENT_HEADER]).toBe(TRACEPARENT);
      expect(Date.parse(record.event.producedAt)).toBeGreaterThanOrEqual(before.getTime());
      expect(record.event.occurredAt.startsWith('2020-01-01')).toBe(true);
    }
  });

  it('wakes on NOTIFY: a commit is published within seconds although the poll interval is 30 s', async () => {
    const relay = newRelay({ pollIntervalMs: 30_000 });
    await relay.start();
    // After this pass the relay sleeps for 30 s unless a notification wakes it.
    await published(relay, db);
    expect(relay.isLeader).toBe(true);

    const events = sampleEvents('inventoryRejected');
    await withTransaction(db.pool, (tx) => enqueue(tx, events));
    await eventually(async () => expect(await unsentCount(db)).toBe(0), { timeoutMs: 10_000 });
    expect(await harness.recordCount()).toBe(events.length);
  });

  it('reopens its session (LISTEN and leadership) when the connection is killed', async () => {
    const relay = newRelay({ pollIntervalMs: 30_000, applicationName: 'outbox-relay-killme' });
    await relay.start();
    await published(relay, db);
    const relayPid = async (): Promise<number | undefined> => {
      const { rows } = await db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'outbox-relay-killme'`,
      );
      return rows[0]?.pid;
    };
    const oldPid = await relayPid();
    expect(oldPid).toBeDefined();
    await db.pool.query('SELECT pg_terminate_backend($1)', [oldPid]);

    await eventually(async () => {
      const pid = await relayPid();
      expect(pid).toBeDefined();
      expect(pid).not.toBe(oldPid);
      expect(relay.isLeader).toBe(true);
    });
    // Let the reconnect pass finish; from here on only a notification on the new session wakes it.
    await published(relay, db);
    const events = sampleEvents('inventoryRejected');
    await withTransaction(db.pool, (tx) => enqueue(tx, events));
    await eventually(async () => expect(await unsentCount(db)).toBe(0), { timeoutMs: 10_000 });
    expect(await harness.recordCount()).toBe(events.length);
  });

  it('keeps rows unsent while publishing fails and publishes them once it recovers', async () => {
    let failuresLeft = 3;
    let attempts = 0;
    const flaky: EventPublisher = {
      async publish(messages) {
        attempts += 1;
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('broker unavailable (injected)');
        }
        await harness.publisher.publish(messages);
      },
    };
    const events = sampleEvents('happy');
    await withTransaction(db.pool, (tx) => enqueue(tx, events));
    const relay = newRelay({ publisher: flaky });
    await relay.start();

    await eventually(() => expect(attempts).toBeGreaterThanOrEqual(1));
    expect(await unsentCount(db)).toBe(events.length);

    await published(relay, db);
    expect(attempts).toBe(4);
    expect(await unsentCount(db)).toBe(0);
    expect(await harness.recordCount()).toBe(events.length);
    await harness.startConsumer();
    await eventually(() => expect(harness.consumed).toHaveLength(events.length), { timeoutMs: 60_000 });
    expectExactlyOnceInOrder([events], harness.consumed, harness);
  });

  it('with two relays on one database, one publishes at a time and a handover loses and repeats nothing', async () => {
    const a = newRelay({ batchSize: 10 });
    const b = newRelay({ batchSize: 10 });
    await a.start();
    await b.start();
    await eventually(() => expect(a.isLeader !== b.isLeader).toBe(true));
    let bothLeaders = 0;
    const sampler = setInterval(() => {
      if (a.isLeader && b.isLeader) bothLeaders += 1;
    }, 5);

    const orders = Array.from({ length: 6 }, () =>
      Array.from({ length: 6 }, () => sampleEvents('happy', { stepMs: 10 })),
    );
    const total = orders.flat(2).length;
    const commits: { id: bigint; eventId: string }[] = [];
    const writing = Promise.all(orders.map((o) => writeOneByOne(roundRobin(o), commits, randomHold(4))));

    // Stop whichever relay leads once it has published part of the stream; the other must take over.
    await eventually(() => expect(harness.publishedEventIds.length).toBeGreaterThan(total / 4), {
      timeoutMs: 30_000,
    });
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    await leader.stop();
    await eventually(() => expect(standby.isLeader).toBe(true));

    await writing;
    await published(standby, db);
    clearInterval(sampler);
    expect(bothLeaders).toBe(0);
    expect(harness.maxConcurrentPublishes()).toBe(1);
    expect(await unsentCount(db)).toBe(0);
    expect(await harness.recordCount()).toBe(total);
    await harness.startConsumer();
    await eventually(() => expect(harness.consumed.length).toBeGreaterThanOrEqual(total), {
      timeoutMs: 60_000,
    });
    expectExactlyOnceInOrder(orders.flat(), harness.consumed, harness);
  });

  it('stop() publishes what is already committed before it returns', async () => {
    const relay = newRelay({ pollIntervalMs: 30_000, batchSize: 25 });
    await relay.start();
    await published(relay, db);
    // Rows written without a notification: nothing wakes the relay for 30 s except stop().
    const events = Array.from({ length: 10 }, () => sampleEvents('happy')).flat();
    await db.pool.query(
      `INSERT INTO outbox (topic, message_key, event_id, event_type, payload)
       SELECT e->>'topic', e->'event'->>'orderId', (e->'event'->>'eventId')::uuid, e->'event'->>'eventType', e->'event'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`,
      [JSON.stringify(events.map((event) => ({ topic: topicForEventType(event.eventType), event })))],
    );
    expect(await unsentCount(db)).toBe(events.length);
    await relay.stop();
    expect(await unsentCount(db)).toBe(0);
    expect(await harness.recordCount()).toBe(events.length);
    expect(relay.isLeader).toBe(false);
  });

  it('reports the backlog in its gauges', async () => {
    const metrics = createMetrics('outbox-test');
    const relay = newRelay({ metrics });
    const events = sampleEvents('happy');
    await withTransaction(db.pool, (tx) => enqueue(tx, events));
    await db.pool.query(`UPDATE outbox SET created_at = now() - interval '90 seconds'`);

    expect(await relay.refreshMetrics()).toEqual({
      rows: events.length,
      oldestAgeSeconds: expect.any(Number),
    });
    expect((await metrics.outboxBacklog.get()).values[0]?.value).toBe(events.length);
    expect((await metrics.outboxOldestAge.get()).values[0]?.value).toBeGreaterThanOrEqual(90);

    await relay.start();
    await published(relay, db);
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
    await withTransaction(db.pool, (tx) => enqueue(tx, [...old, ...recent, ...unsent]));
    await db.pool.query(
      `UPDATE outbox SET sent_at = now() - interval '2 hours' WHERE event_id = ANY($1::uuid[])`,
      [old.map((e) => e.eventId)],
    );
    await db.pool.query(
      `UPDATE outbox SET sent_at = now() - interval '10 minutes' WHERE event_id = ANY($1::uuid[])`,
      [recent.map((e) => e.eventId)],
    );

    expect(await relay.cleanup()).toBe(old.length);
    const { rows } = await db.pool.query<{ event_id: string }>('SELECT event_id FROM outbox ORDER BY id');
    expect(rows.map((r) => r.event_id)).toEqual([...recent, ...unsent].map((e) => e.eventId));
  });
});
