import { type AnyEvent, DlqHeader, serializeEnvelope, TRACEPARENT_HEADER } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import {
  createEventProducer,
  DLQ_REASON_HEADER,
  type EventProducer,
  type EventPublisher,
  ensureTopics,
  type HandlerContext,
  type KafkaClient,
  PermanentError,
  readDlq,
  TopicMismatchError,
} from '../src/kafka';
import {
  consumers,
  metricValue,
  scenario as newScenario,
  TRACEPARENT,
  toMessage,
} from './helpers/consumer-scenario';
import { assertKafkaReachable, gate, orderCreated, suffix, testKafka, testLogger } from './helpers/kafka';

const logger = testLogger();

let kafka: KafkaClient;
let producer: EventProducer;

beforeAll(async () => {
  await assertKafkaReachable();
  kafka = testKafka(logger);
  producer = createEventProducer(kafka, { logger });
  await producer.connect();
});

afterEach(() => running.stopAll());

afterAll(async () => {
  await producer?.disconnect();
});

const running = consumers(
  () => kafka,
  () => producer,
);
const consume = running.consume;
const scenario = (numPartitions: number) => newScenario(kafka, numPartitions);
const counterValue = metricValue;

interface Seen {
  event: AnyEvent;
  ctx: Omit<HandlerContext, 'logger'>;
}

describe('Kafka module against a real broker', () => {
  it('round-trips envelopes: what the consumer parses equals what was produced, in per-key order', async () => {
    const s = await scenario(3);
    const orders = [sampleEvents('happy'), sampleEvents('paymentFailed'), sampleEvents('deliveryFailed')];
    const published = orders.flat();
    const seen: Seen[] = [];
    const consumer = consume(s, async (event, { logger: _logger, ...ctx }) => {
      seen.push({ event, ctx });
    });
    await consumer.ready;

    await producer.publish(published.map((e) => toMessage(s.topic, e)));

    await eventually(() => expect(seen).toHaveLength(published.length));
    for (const original of published) {
      const received = seen.find((x) => x.event.eventId === original.eventId);
      expect(received?.event).toEqual(original);
      expect(received?.ctx.headers[TRACEPARENT_HEADER]).toBe(TRACEPARENT);
      expect(received?.ctx.topic).toBe(s.topic);
      expect(received?.ctx.attempt).toBe(1);
    }
    for (const events of orders) {
      const mine = seen.filter((x) => x.event.orderId === events[0]?.orderId);
      // Same key → same partition → handled in publish order.
      expect(mine.map((x) => x.event.eventId)).toEqual(events.map((e) => e.eventId));
      expect(new Set(mine.map((x) => x.ctx.partition)).size).toBe(1);
    }
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'processed' })).toBe(published.length);
  });

  it('dead-letters malformed messages with all DLQ headers and the original bytes, then keeps going', async () => {
    const s = await scenario(1);
    const badJson = Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x22]); // '{"' + invalid UTF-8 + NUL + '"'
    const valid = orderCreated(`order-${suffix()}`);
    const badFields = { ...valid, eventId: 'not-a-uuid', payload: { ...valid.payload, totalAmount: 'lots' } };
    const after = orderCreated(`order-${suffix()}`);
    const handled: AnyEvent[] = [];
    const consumer = consume(s, async (event) => {
      handled.push(event);
    });
    await consumer.ready;
    const startedAt = Date.now();

    await producer.publish([
      {
        topic: s.topic,
        key: Buffer.from([0x01, 0xfe]),
        value: badJson,
        headers: { traceparent: TRACEPARENT },
      },
      { topic: s.topic, key: valid.orderId, value: Buffer.from(JSON.stringify(badFields)) },
      toMessage(s.topic, after),
    ]);

    await eventually(() => expect(handled.map((e) => e.eventId)).toEqual([after.eventId]));
    await eventually(async () =>
      expect(await counterValue(s.metrics.dlqMessages, { topic: s.topic, reason: 'invalid' })).toBe(2),
    );

    const dead = await readDlq(kafka, s.dlq);
    expect(dead).toHaveLength(2);
    const [first, second] = dead;

    expect(first?.key).toEqual(Buffer.from([0x01, 0xfe]));
    expect(first?.value?.equals(badJson)).toBe(true);
    expect(first?.headers).toMatchObject({
      [DlqHeader.originalTopic]: s.topic,
      [DlqHeader.originalPartition]: '0',
      [DlqHeader.originalOffset]: '0',
      [DlqHeader.retryCount]: '0',
      [DLQ_REASON_HEADER]: 'invalid',
      [TRACEPARENT_HEADER]: TRACEPARENT,
    });
    expect(first?.headers[DlqHeader.error]).toMatch(/invalid JSON/);

    expect(second?.key?.toString()).toBe(valid.orderId);
    expect(second?.value?.toString()).toBe(JSON.stringify(badFields));
    expect(second?.headers).toMatchObject({
      [DlqHeader.originalTopic]: s.topic,
      [DlqHeader.originalPartition]: '0',
      [DlqHeader.originalOffset]: '1',
      [DlqHeader.retryCount]: '0',
    });
    // x-error names every bad field.
    expect(second?.headers[DlqHeader.error]).toMatch(/eventId/);
    expect(second?.headers[DlqHeader.error]).toMatch(/payload\.totalAmount/);

    for (const d of dead) {
      expect(d.dlq).not.toBeNull();
      const failedAt = Date.parse(d.headers[DlqHeader.failedAt] ?? '');
      expect(failedAt).toBeGreaterThanOrEqual(startedAt - 1_000);
      expect(failedAt).toBeLessThanOrEqual(Date.now());
      expect(d.headers[DlqHeader.failedAt]).toBe(new Date(failedAt).toISOString());
    }
  });

  it('retries a transient failure, applies the effect once, and commits only after success', async () => {
    const s = await scenario(1);
    const event = orderCreated(`order-${suffix()}`);
    const attempts: number[] = [];
    const effects = new Map<string, number>(); // eventId → times applied
    const first = consume(s, async (e, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt <= 2) throw new Error(`transient failure ${ctx.attempt}`);
      effects.set(e.eventId, (effects.get(e.eventId) ?? 0) + 1);
    });
    await first.ready;

    await producer.publish([toMessage(s.topic, event)]);

    await eventually(() => expect(effects.get(event.eventId)).toBe(1));
    expect(attempts).toEqual([1, 2, 3]);
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'retried' })).toBe(2);
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'processed' })).toBe(1);
    expect(await counterValue(s.metrics.dlqMessages, {})).toBe(0);
    await first.stop();

    // A new member of the same group starts from the committed offset: the event is not redelivered.
    const sentinel = orderCreated(`order-${suffix()}`);
    const seenAfterRestart: string[] = [];
    const second = consume(s, async (e) => {
      seenAfterRestart.push(e.eventId);
    });
    await second.ready;
    await producer.publish([toMessage(s.topic, sentinel)]);
    await eventually(() => expect(seenAfterRestart).toContain(sentinel.eventId));
    expect(seenAfterRestart).toEqual([sentinel.eventId]);
    expect(effects.get(event.eventId)).toBe(1);
  });

  it('dead-letters after maxAttempts (and a PermanentError at once); the partition moves on', async () => {
    const s = await scenario(1);
    const orderId = `order-${suffix()}`;
    const alwaysFails = orderCreated(orderId);
    const permanent = orderCreated(orderId);
    const fine = orderCreated(orderId);
    const attempts = new Map<string, number[]>();
    const processed: string[] = [];
    const consumer = consume(s, async (e, ctx) => {
      attempts.set(e.eventId, [...(attempts.get(e.eventId) ?? []), ctx.attempt]);
      if (e.eventId === alwaysFails.eventId) throw new Error('database is down');
      if (e.eventId === permanent.eventId) throw new PermanentError('order is unknown here');
      processed.push(e.eventId);
    });
    await consumer.ready;

    await producer.publish([alwaysFails, permanent, fine].map((e) => toMessage(s.topic, e)));

    await eventually(() => expect(processed).toEqual([fine.eventId]));
    expect(attempts.get(alwaysFails.eventId)).toEqual([1, 2, 3]);
    expect(attempts.get(permanent.eventId)).toEqual([1]);
    await eventually(async () =>
      expect(await counterValue(s.metrics.dlqMessages, { topic: s.topic })).toBe(2),
    );
    expect(await counterValue(s.metrics.dlqMessages, { reason: 'exhausted' })).toBe(1);
    expect(await counterValue(s.metrics.dlqMessages, { reason: 'permanent' })).toBe(1);
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'dead_lettered' })).toBe(2);

    const dead = await readDlq(kafka, s.dlq);
    expect(dead.map((d) => d.dlq)).toEqual([
      expect.objectContaining({
        originalTopic: s.topic,
        originalOffset: '0',
        retryCount: 3,
        error: 'database is down',
        reason: 'exhausted',
      }),
      expect.objectContaining({
        originalTopic: s.topic,
        originalOffset: '1',
        retryCount: 1,
        error: 'order is unknown here',
        reason: 'permanent',
      }),
    ]);
    expect(dead[0]?.value?.equals(serializeEnvelope(alwaysFails))).toBe(true);
    expect(dead[0]?.key?.toString()).toBe(orderId);
    expect(dead[0]?.headers[TRACEPARENT_HEADER]).toBe(TRACEPARENT);
  });

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

    await producer.publish([toMessage(s.topic, slow)]);
    await eventually(() => expect(slowPartition).toBeDefined());
    // Published while the slow handler is stuck, so they arrive in later fetches.
    await producer.publish(fast.map((e) => toMessage(s.topic, e)));

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
    await producer.publish(firstHalf.map((e) => toMessage(s.topic, e)));
    await eventually(() => expect(processedBy.size).toBeGreaterThan(0));

    const b = consume(s, handlerFor('b'));
    await b.ready;
    await producer.publish(secondHalf.map((e) => toMessage(s.topic, e)));
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
    await producer.publish([toMessage(s.topic, event)]);
    await eventually(() => expect(started).toBe(true));

    const stopped = first.stop();
    release.open();
    await stopped;
    expect(finished).toBe(true);
    expect(first.state()).toBe('stopped');

    const sentinel = orderCreated(`order-${suffix()}`);
    const seenAfterRestart: string[] = [];
    const second = consume(s, async (e) => {
      seenAfterRestart.push(e.eventId);
    });
    await second.ready;
    await producer.publish([toMessage(s.topic, sentinel)]);
    await eventually(() => expect(seenAfterRestart).toContain(sentinel.eventId));
    expect(seenAfterRestart).toEqual([sentinel.eventId]);
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
    await producer.publish([toMessage(s.topic, event)]);
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

  it('never commits a message whose dead letter could not be published', async () => {
    const s = await scenario(1);
    let dlqWorks = false;
    let failedDlqPublishes = 0;
    // Fault injection around the real producer: the DLQ is unreachable until dlqWorks flips.
    const flakyPublisher: EventPublisher = {
      publish: async (messages) => {
        if (!dlqWorks) {
          failedDlqPublishes += 1;
          throw new Error('DLQ unavailable');
        }
        await producer.publish(messages);
      },
    };
    const valid = orderCreated(`order-${suffix()}`);
    const handled: string[] = [];
    const record = async (e: AnyEvent) => {
      handled.push(e.eventId);
    };
    const first = consume(s, record, { publisher: flakyPublisher });
    await first.ready;
    await producer.publish([
      { topic: s.topic, key: 'k', value: Buffer.from('not json') },
      toMessage(s.topic, valid),
    ]);

    await eventually(() => expect(failedDlqPublishes).toBeGreaterThanOrEqual(2)); // it keeps retrying
    expect(handled).toEqual([]); // and holds the partition: nothing behind it is skipped ahead
    await first.stop();

    dlqWorks = true;
    const second = consume(s, record, { publisher: flakyPublisher });
    await second.ready;
    await eventually(() => expect(handled).toEqual([valid.eventId]));
    const dead = await readDlq(kafka, s.dlq);
    expect(dead.map((d) => [d.value?.toString(), d.dlq?.originalOffset])).toEqual([['not json', '0']]);
  });

  it('ensureTopics creates missing topics, is idempotent, and rejects a partition-count mismatch', async () => {
    const topic = `test.kafka.ensure.${suffix()}`;
    expect(await ensureTopics(kafka, [{ topic, numPartitions: 2 }])).toEqual([topic]);
    expect(await ensureTopics(kafka, [{ topic, numPartitions: 2 }])).toEqual([]);
    const mismatch = ensureTopics(kafka, [{ topic, numPartitions: 4 }]);
    await expect(mismatch).rejects.toBeInstanceOf(TopicMismatchError);
    await expect(mismatch).rejects.toThrow(`${topic}: has 2 partitions, expected 4`);
  });
});
