import type { AnyEvent } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import { metricValue, toMessage, useKafkaClients } from './helpers/consumer-scenario';
import { gate, orderCreated, suffix } from './helpers/kafka';

/** Partitions and the consumer group: concurrency, rebalances, stopping mid-message. */
describe('Kafka module against a real broker', () => {
  const k = useKafkaClients();
  const { consume, scenario } = k;
  const counterValue = metricValue;

  it('processes partitions concurrently: a stuck handler on one partition does not block another', async () => {
    const s = await scenario(2);
    // Fixed keys: the murmur2 partitioner is deterministic, so these always spread over both partitions.
    const slow = orderCreated('order-slow');
    const fast = Array.from({ length: 12 }, (_, i) => orderCreated(`order-fast-${i}`));
    const release = gate();
    let slowPartition: number | undefined;
    const done: { orderId: string; partition: number }[] = [];
    const consumer = consume(s, async (e, ctx) => {
      if (e.eventId === slow.eventId) {
        slowPartition = ctx.partition;
        await release.opened;
      }
      done.push({ orderId: e.orderId, partition: ctx.partition });
    });
    await consumer.ready;

    await k.producer.publish([toMessage(s.topic, slow)]);
    await eventually(() => expect(slowPartition).toBeDefined());
    // Published while the slow handler is stuck, so they arrive in later fetches.
    await k.producer.publish(fast.map((e) => toMessage(s.topic, e)));

    await eventually(() =>
      expect(done.filter((d) => d.partition !== slowPartition).length).toBeGreaterThan(0),
    );
    const onOtherPartition = done.length;
    // Messages behind the stuck one on its own partition wait: per-partition order is kept.
    expect(done.filter((d) => d.partition === slowPartition)).toEqual([]);

    release.open();
    await eventually(() => expect(done).toHaveLength(fast.length + 1));
    const slowIndex = done.findIndex((d) => d.orderId === 'order-slow');
    expect(slowIndex).toBeGreaterThanOrEqual(onOtherPartition);
    const laterOnSlowPartition = done.filter((d, i) => d.partition === slowPartition && i < slowIndex);
    expect(laterOnSlowPartition).toEqual([]);
  });

  it('skips nothing while the group rebalances (a member joins, then one leaves)', async () => {
    const s = await scenario(3);
    const orders = Array.from({ length: 8 }, () => sampleEvents('happy'));
    const firstHalf = orders.slice(0, 4).flat();
    const secondHalf = orders.slice(4).flat();
    const processedBy = new Map<string, Set<string>>(); // eventId → members that handled it
    const handlerFor = (member: string) => async (e: AnyEvent) => {
      // Yield once so handlers interleave with fetches and rebalances like real I/O would.
      await new Promise((resolve) => setImmediate(resolve));
      const members = processedBy.get(e.eventId) ?? new Set<string>();
      members.add(member);
      processedBy.set(e.eventId, members);
    };

    const a = consume(s, handlerFor('a'));
    await a.ready;
    await k.producer.publish(firstHalf.map((e) => toMessage(s.topic, e)));
    await eventually(() => expect(processedBy.size).toBeGreaterThan(0));

    const b = consume(s, handlerFor('b'));
    await b.ready;
    await k.producer.publish(secondHalf.map((e) => toMessage(s.topic, e)));
    await a.stop();

    const all = [...firstHalf, ...secondHalf].map((e) => e.eventId);
    await eventually(() => expect([...processedBy.keys()].sort()).toEqual([...all].sort()), {
      timeoutMs: 30_000,
    });
    expect(b.state()).toBe('running');
  });

  it('on stop, finishes the in-flight message and commits it before leaving the group', async () => {
    const s = await scenario(1);
    const event = orderCreated(`order-${suffix()}`);
    const release = gate();
    let started = false;
    let finished = false;
    const first = consume(s, async () => {
      started = true;
      await release.opened;
      finished = true;
    });
    await first.ready;
    await k.producer.publish([toMessage(s.topic, event)]);
    await eventually(() => expect(started).toBe(true));

    const stopped = first.stop();
    release.open();
    await stopped;
    expect(finished).toBe(true);
    expect(first.state()).toBe('stopped');

    await k.expectNothingRedelivered(s);
  });

  it('redelivers a message whose handler had not succeeded when its consumer stopped', async () => {
    const s = await scenario(1);
    const event = orderCreated(`order-${suffix()}`);
    const attempts: number[] = [];
    // Long backoff: the consumer is stopped while it waits to retry.
    const first = consume(
      s,
      async (_e, ctx) => {
        attempts.push(ctx.attempt);
        throw new Error('dependency unavailable');
      },
      { retry: { maxAttempts: 10, initialDelayMs: 60_000, maxDelayMs: 60_000 } },
    );
    await first.ready;
    await k.producer.publish([toMessage(s.topic, event)]);
    await eventually(() => expect(attempts).toEqual([1]));
    await first.stop(); // aborts the backoff wait; nothing is committed or dead-lettered

    const redelivered: AnyEvent[] = [];
    const second = consume(s, async (e) => {
      redelivered.push(e);
    });
    await second.ready;
    await eventually(() => expect(redelivered.map((e) => e.eventId)).toEqual([event.eventId]));
    expect(await counterValue(s.metrics.dlqMessages, {})).toBe(0);
  });
});
