import { type AnyEvent, DlqHeader, serializeEnvelope, TRACEPARENT_HEADER } from '@dispatch/contracts';
import { eventually } from '@dispatch/testkit';
import { DLQ_REASON_HEADER, type EventPublisher, PermanentError, readDlq } from '../src/kafka';
import { metricValue, TRACEPARENT, toMessage, useKafkaClients } from './helpers/consumer-scenario';
import { orderCreated, suffix } from './helpers/kafka';

/** Retries and dead letters: malformed messages, transient and permanent failures, an unreachable DLQ. */
describe('Kafka module against a real broker', () => {
  const k = useKafkaClients();
  const { consume, scenario } = k;
  const counterValue = metricValue;

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

    await k.producer.publish([
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

    const dead = await readDlq(k.kafka, s.dlq);
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

    await k.producer.publish([toMessage(s.topic, event)]);

    await eventually(() => expect(effects.get(event.eventId)).toBe(1));
    expect(attempts).toEqual([1, 2, 3]);
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'retried' })).toBe(2);
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'processed' })).toBe(1);
    expect(await counterValue(s.metrics.dlqMessages, {})).toBe(0);
    await first.stop();

    // A new member of the same group starts from the committed offset: the event is not redelivered.
    await k.expectNothingRedelivered(s);
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

    await k.producer.publish([alwaysFails, permanent, fine].map((e) => toMessage(s.topic, e)));

    await eventually(() => expect(processed).toEqual([fine.eventId]));
    expect(attempts.get(alwaysFails.eventId)).toEqual([1, 2, 3]);
    expect(attempts.get(permanent.eventId)).toEqual([1]);
    await eventually(async () =>
      expect(await counterValue(s.metrics.dlqMessages, { topic: s.topic })).toBe(2),
    );
    expect(await counterValue(s.metrics.dlqMessages, { reason: 'exhausted' })).toBe(1);
    expect(await counterValue(s.metrics.dlqMessages, { reason: 'permanent' })).toBe(1);
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'dead_lettered' })).toBe(2);

    const dead = await readDlq(k.kafka, s.dlq);
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
        await k.producer.publish(messages);
      },
    };
    const valid = orderCreated(`order-${suffix()}`);
    const handled: string[] = [];
    const record = async (e: AnyEvent) => {
      handled.push(e.eventId);
    };
    const first = consume(s, record, { publisher: flakyPublisher });
    await first.ready;
    await k.producer.publish([
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
    const dead = await readDlq(k.kafka, s.dlq);
    expect(dead.map((d) => [d.value?.toString(), d.dlq?.originalOffset])).toEqual([['not json', '0']]);
  });
});
