import { type AnyEvent, topicForEventType } from '@dispatch/contracts';
import { eventually } from '@dispatch/testkit';
import { enqueue, readOutboxBacklog } from '../../src/outbox';
import { OutboxRelay, type OutboxRelayOptions } from '../../src/outbox-relay';
import { clientConfig } from '../../src/pg';
import { createTestDatabase, type TestDatabase, testLogger } from './pg';
import { type ConsumedRecord, createKafkaHarness, type KafkaHarness } from './pg-outbox-kafka';

// Shared by the outbox tests (outbox-*.int.test.ts).

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

export async function unsentCount(db: TestDatabase): Promise<number> {
  return (await readOutboxBacklog(db.pool)).rows;
}

/** Resolves once `relay` leads and the outbox has nothing unsent (nothing committed is left to publish). */
export async function published(relay: OutboxRelay, db: TestDatabase): Promise<void> {
  await eventually(
    async () => {
      expect(relay.isLeader).toBe(true);
      expect(await unsentCount(db)).toBe(0);
    },
    { timeoutMs: 30_000 },
  );
}

/** Interleaves the orders' event lists (one event of each order in turn), keeping each order's own order. */
export function roundRobin(orders: AnyEvent[][]): AnyEvent[] {
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
export function expectExactlyOnceInOrder(
  written: AnyEvent[][],
  consumed: ConsumedRecord[],
  harness: KafkaHarness,
) {
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

export function randomHold(maxMs: number): () => Promise<void> {
  return () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * maxMs)));
}

/** Commits where a lower id committed after a higher one had already committed. */
export function outOfOrderCommits(commits: { id: bigint }[]): number {
  let highest = -1n;
  let late = 0;
  for (const { id } of commits) {
    if (id < highest) late += 1;
    else highest = id;
  }
  return late;
}

export interface OutboxRelayFixture {
  /** The current test's database. */
  readonly db: TestDatabase;
  /** The current test's Kafka topics and consumer. */
  readonly harness: KafkaHarness;
  /** A relay on the test's database publishing to its harness; stopped after the test. */
  newRelay(opts?: Partial<OutboxRelayOptions>): OutboxRelay;
  writeOneByOne(
    events: AnyEvent[],
    commits: { id: bigint; eventId: string }[],
    hold: (id: bigint) => Promise<void>,
  ): Promise<void>;
}

/** A fresh database and Kafka harness per test, and the relays the test starts. Call inside a describe. */
export function useOutboxRelay(): OutboxRelayFixture {
  let db: TestDatabase | undefined;
  let harness: KafkaHarness | undefined;
  const relays: OutboxRelay[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the outbox relay fixture is not set up yet (beforeEach)');
    return value;
  };

  beforeEach(async () => {
    db = await createTestDatabase('outbox_relay');
    harness = await createKafkaHarness();
  });

  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await harness?.close();
    await db?.drop();
  });

  function newRelay(opts: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const relay = new OutboxRelay({
      pool: ready(db).pool,
      publisher: ready(harness).publisher,
      logger: testLogger,
      connectionConfig: clientConfig(ready(db).config),
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
      const tx = await ready(db).pool.connect();
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

  return {
    get db() {
      return ready(db);
    },
    get harness() {
      return ready(harness);
    },
    newRelay,
    writeOneByOne,
  };
}
