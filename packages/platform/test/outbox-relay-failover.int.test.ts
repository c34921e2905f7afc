import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import type { EventPublisher } from '../src/kafka/publisher';
import { enqueue } from '../src/outbox';
import { withTransaction } from '../src/pg';
import {
  expectExactlyOnceInOrder,
  published,
  randomHold,
  roundRobin,
  unsentCount,
  useOutboxRelay,
} from './helpers/outbox';

/** Failures: a killed session, a failing publisher, a second relay taking over. */
describe('OutboxRelay against real Kafka', () => {
  const t = useOutboxRelay();
  const { newRelay, writeOneByOne } = t;

  it('reopens its session (LISTEN and leadership) when the connection is killed', async () => {
    const relay = newRelay({ pollIntervalMs: 30_000, applicationName: 'outbox-relay-killme' });
    await relay.start();
    await published(relay, t.db);
    const relayPid = async (): Promise<number | undefined> => {
      const { rows } = await t.db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'outbox-relay-killme'`,
      );
      return rows[0]?.pid;
    };
    const oldPid = await relayPid();
    expect(oldPid).toBeDefined();
    await t.db.pool.query('SELECT pg_terminate_backend($1)', [oldPid]);

    await eventually(async () => {
      const pid = await relayPid();
      expect(pid).toBeDefined();
      expect(pid).not.toBe(oldPid);
      expect(relay.isLeader).toBe(true);
    });
    // Let the reconnect pass finish; from here on only a notification on the new session wakes it.
    await published(relay, t.db);
    const events = sampleEvents('inventoryRejected');
    await withTransaction(t.db.pool, (tx) => enqueue(tx, events));
    await eventually(async () => expect(await unsentCount(t.db)).toBe(0), { timeoutMs: 10_000 });
    expect(await t.harness.recordCount()).toBe(events.length);
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
        await t.harness.publisher.publish(messages);
      },
    };
    const events = sampleEvents('happy');
    await withTransaction(t.db.pool, (tx) => enqueue(tx, events));
    const relay = newRelay({ publisher: flaky });
    await relay.start();

    await eventually(() => expect(attempts).toBeGreaterThanOrEqual(1));
    expect(await unsentCount(t.db)).toBe(events.length);

    await published(relay, t.db);
    expect(attempts).toBe(4);
    expect(await unsentCount(t.db)).toBe(0);
    expect(await t.harness.recordCount()).toBe(events.length);
    await t.harness.startConsumer();
    await eventually(() => expect(t.harness.consumed).toHaveLength(events.length), { timeoutMs: 60_000 });
    expectExactlyOnceInOrder([events], t.harness.consumed, t.harness);
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
    await eventually(() => expect(t.harness.publishedEventIds.length).toBeGreaterThan(total / 4), {
      timeoutMs: 30_000,
    });
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    await leader.stop();
    await eventually(() => expect(standby.isLeader).toBe(true));

    await writing;
    await published(standby, t.db);
    clearInterval(sampler);
    expect(bothLeaders).toBe(0);
    expect(t.harness.maxConcurrentPublishes()).toBe(1);
    expect(await unsentCount(t.db)).toBe(0);
    expect(await t.harness.recordCount()).toBe(total);
    await t.harness.startConsumer();
    await eventually(() => expect(t.harness.consumed.length).toBeGreaterThanOrEqual(total), {
      timeoutMs: 60_000,
    });
    expectExactlyOnceInOrder(orders.flat(), t.harness.consumed, t.harness);
  });
});
