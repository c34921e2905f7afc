import {
  type AnyEvent,
  DlqHeader,
  dlqTopic,
  RAW_TOPICS,
  type RawTopic,
  serializeEnvelope,
  topicForEventType,
} from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import {
  type ConsumedEvent,
  createEventProducer,
  DLQ_ORIGINAL_SIZE_HEADER,
  DLQ_REASON_HEADER,
  DLQ_TRUNCATED_HEADER,
  type EventProducer,
  ensureTopics,
  fetchEndOffsets,
  type KafkaClient,
  type OutgoingMessage,
  RetryableError,
  readDlq,
  TRUNCATED_VALUE_BYTES,
} from '../src/kafka';
import { kafkajsOf } from '../src/kafka/client';
import { createMetrics } from '../src/metrics';
import { consumers, metricValue, scenario, toMessage } from './helpers/consumer-scenario';
import { assertKafkaReachable, orderCreated, suffix, testKafka, testLogger } from './helpers/kafka';

let kafka: KafkaClient;
let producer: EventProducer;
const running = consumers(
  () => kafka,
  () => producer,
);

beforeAll(async () => {
  await assertKafkaReachable();
  kafka = testKafka(testLogger());
  producer = createEventProducer(kafka, { logger: testLogger() });
  await producer.connect();
});

afterEach(() => running.stopAll());

afterAll(async () => {
  await producer?.disconnect();
});

/** What a client of a database that is down throws. */
function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

describe('a dependency outage (real Kafka)', () => {
  it('is retried past maxAttempts with the offset kept, never dead-lettered; readiness says blocked until it passes', async () => {
    const s = await scenario(kafka, 1);
    let databaseUp = false;
    const attempts: number[] = [];
    const processed: string[] = [];
    const consumer = running.consume(
      s,
      async (event, ctx) => {
        attempts.push(ctx.attempt);
        if (!databaseUp) throw connectionRefused();
        processed.push(event.eventId);
      },
      { blockedAfterMs: 300 },
    );
    await consumer.ready;
    const stuck = orderCreated(`order-${suffix()}`);
    const behind = orderCreated(stuck.orderId);
    await producer.publish([toMessage(s.topic, stuck), toMessage(s.topic, behind)]);

    // maxAttempts is 3: an unknown error would be dead-lettered by now.
    await eventually(() => expect(attempts.length).toBeGreaterThan(6));
    await eventually(() => expect(consumer.healthCheck.check()).rejects.toThrow(/blocked on 1 partition/));
    await expect(consumer.healthCheck.check()).rejects.toThrow(/ECONNREFUSED/);
    expect(await metricValue(s.metrics.consumerBlockedPartitions, { topic: s.topic })).toBe(1);
    expect(processed).toEqual([]);

    databaseUp = true;
    await eventually(() => expect(processed).toEqual([stuck.eventId, behind.eventId]));
    await expect(consumer.healthCheck.check()).resolves.toBeUndefined();
    expect(await metricValue(s.metrics.consumerBlockedPartitions, { topic: s.topic })).toBe(0);
    expect(await metricValue(s.metrics.dlqMessages, {})).toBe(0);
  });

  it('retries a failing batch whole while a dependency is down, instead of splitting it into single events', async () => {
    const s = await scenario(kafka, 1);
    const events = Array.from({ length: 5 }, () => orderCreated(`order-${suffix()}`));
    await producer.publish(events.map((e) => toMessage(s.topic, e)));
    let databaseUp = false;
    const failedCalls: number[] = [];
    const committed: string[] = [];
    const consumer = running.consume(s, undefined, {
      batchHandler: async (batch: readonly ConsumedEvent[]) => {
        if (!databaseUp) {
          failedCalls.push(batch.length);
          throw new RetryableError('the read model is unreachable');
        }
        committed.push(...batch.map((e) => e.event.eventId));
      },
    });
    await consumer.ready;
    await eventually(() => expect(failedCalls.length).toBeGreaterThanOrEqual(5));
    databaseUp = true;
    await eventually(() => expect(committed).toEqual(events.map((e) => e.eventId)));
    // Published before the consumer started, the five come in one fetch: every failed call had them all.
    expect(new Set(failedCalls)).toEqual(new Set([5]));
    expect(await metricValue(s.metrics.dlqMessages, {})).toBe(0);
  });

  it('dead-letters a message just under the broker limit, truncated to fit, and moves on', async () => {
    const s = await scenario(kafka, 1);
    const huge = Buffer.alloc(1_000_000, 0x7b); // '{{{{…': not JSON, and too large to dead-letter whole
    const after = orderCreated(`order-${suffix()}`);
    const processed: string[] = [];
    const consumer = running.consume(s, async (event) => {
      processed.push(event.eventId);
    });
    await consumer.ready;
    await producer.publish([
      { topic: s.topic, key: after.orderId, value: huge, headers: { traceparent: 'kept' } },
      toMessage(s.topic, after),
    ]);
    await eventually(() => expect(processed).toEqual([after.eventId]));
    const [dead, ...more] = await readDlq(kafka, s.dlq);
    expect(more).toEqual([]);
    expect(dead?.value?.equals(huge.subarray(0, TRUNCATED_VALUE_BYTES))).toBe(true);
    expect(dead?.headers).toMatchObject({
      traceparent: 'kept',
      [DLQ_TRUNCATED_HEADER]: 'value',
      [DLQ_ORIGINAL_SIZE_HEADER]: '1000000',
      [DLQ_REASON_HEADER]: 'invalid',
      [DlqHeader.originalOffset]: '0',
    });
    expect(dead?.headers[DlqHeader.error]).toMatch(/1000000 bytes/);
  });
});

/** One poison message of the corpus, and the reason it must be dead-lettered with. */
interface Poison {
  name: string;
  topic: RawTopic;
  value: Buffer | null;
  reason: 'invalid' | 'clock';
  /** A fragment x-error must contain. */
  error: RegExp;
}

/** A valid event of `topic` for `orderId`, from the topic's owner. */
function validOn(topic: RawTopic, orderId: string, startAt = new Date()): AnyEvent {
  const event = sampleEvents('happy', { orderId, startAt }).find(
    (e) => topicForEventType(e.eventType) === topic,
  );
  if (!event) throw new Error(`no happy-path event lives on ${topic}`);
  return event;
}

function corpus(id: string): Poison[] {
  const created = validOn('raw.order-events', `poison-${id}`) as AnyEvent & {
    payload: Record<string, unknown>;
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const envelope = (patch: Record<string, unknown>) => json({ ...created, ...patch });
  const without = (field: string) => {
    const copy: Record<string, unknown> = { ...created };
    delete copy[field];
    return json(copy);
  };
  const payload = (patch: Record<string, unknown>) => envelope({ payload: { ...created.payload, ...patch } });
  const order = (name: string, value: Buffer | null, error: RegExp): Poison => ({
    name,
    topic: 'raw.order-events',
    value,
    reason: 'invalid',
    error,
  });
  const cases: Poison[] = [
    // Not an envelope at all.
    order('a tombstone (null value)', null, /JSON/i),
    order('an empty value', Buffer.alloc(0), /JSON/i),
    order('plain text', Buffer.from('not json'), /JSON/i),
    order('truncated JSON', Buffer.from('{"eventId":'), /JSON/i),
    order('JSON with trailing garbage', Buffer.from('{"a":1}x'), /JSON/i),
    order('invalid UTF-8 and a NUL', Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x22, 0x7d]), /./),
    order('a JSON array', Buffer.from('[]'), /object/),
    order('JSON null', Buffer.from('null'), /object/),
    order('a JSON number', Buffer.from('42'), /object/),
    order('a JSON string', Buffer.from('"order.created"'), /object/),
    order('an empty object', Buffer.from('{}'), /eventId/),
    order('a 300 KB envelope', payload({ notes: 'x'.repeat(300_000) }), /bytes; events are at most/),
    // Envelope fields.
    order('no eventId', without('eventId'), /eventId/),
    order('an eventId that is no UUID', envelope({ eventId: 'evt-1' }), /eventId/),
    order('an unknown eventType', envelope({ eventType: 'order.exploded' }), /eventType/),
    order('no eventType', without('eventType'), /eventType/),
    order('eventType of the wrong type', envelope({ eventType: 7 }), /eventType/),
    order('schemaVersion 0', envelope({ schemaVersion: 0 }), /schemaVersion/),
    order('schemaVersion as a string', envelope({ schemaVersion: '1' }), /schemaVersion/),
    order('schemaVersion from the future', envelope({ schemaVersion: 99 }), /schemaVersion|version/),
    order('occurredAt that is no date', envelope({ occurredAt: 'yesterday' }), /occurredAt/),
    order('no producedAt', without('producedAt'), /producedAt/),
    order('an empty orderId', envelope({ orderId: '' }), /orderId/),
    order('a NUL in the orderId', envelope({ orderId: `poison-${id}\u0000` }), /orderId/),
    order('a lone surrogate in the orderId', envelope({ orderId: `poison-${id}\ud800` }), /orderId/),
    order('an orderId that is not a string', envelope({ orderId: 12345 }), /orderId/),
    order('a correlationId of 129 characters', envelope({ correlationId: 'c'.repeat(129) }), /correlationId/),
    order('a NUL in the correlationId', envelope({ correlationId: `c-${id}\u0000` }), /correlationId/),
    order('a line feed in the producer', envelope({ producer: 'order-service\n' }), /producer/),
    order('a causationId that is no UUID', envelope({ causationId: 'because' }), /causationId/),
    order('an empty producer', envelope({ producer: '' }), /producer/),
    order('no payload', without('payload'), /payload/),
    order('a payload that is an array', envelope({ payload: [] }), /payload/),
    // Payload fields of order.created.
    order('a totalAmount that is no amount', payload({ totalAmount: 'lots' }), /totalAmount/),
    order('a negative totalAmount', payload({ totalAmount: '-5.00' }), /totalAmount/),
    order('no items', payload({ items: [] }), /items/),
    order(
      'a quantity of 0',
      payload({ items: [{ itemId: 'sku-1', quantity: 0, unitPrice: '1.00' }] }),
      /quantity/,
    ),
    order(
      'a fractional quantity',
      payload({ items: [{ itemId: 'sku-1', quantity: 1.5, unitPrice: '1.00' }] }),
      /quantity/,
    ),
    order('a currency of four letters', payload({ currency: 'EURO' }), /currency/),
    order('no deliveryAddress', payload({ deliveryAddress: undefined }), /deliveryAddress/),
    order(
      'a latitude of 200',
      payload({ deliveryAddress: { ...(created.payload.deliveryAddress as object), lat: 200 } }),
      /lat/,
    ),
    order('a payload orderId other than the envelope one', payload({ orderId: 'someone-else' }), /orderId/),
  ];
  // Valid events, but on a topic they do not belong to, or not from the topic's owner.
  const others = (topic: RawTopic) => RAW_TOPICS.filter((t) => t !== topic);
  for (const topic of RAW_TOPICS) {
    for (const home of others(topic)) {
      cases.push({
        name: `a ${home} event on ${topic}`,
        topic,
        value: serializeEnvelope(validOn(home, `poison-${id}-x`)),
        reason: 'invalid',
        error: new RegExp(`belong on ${home.replace('.', '\\.')}, not`),
      });
    }
    cases.push({
      name: `an event on ${topic} from a service that does not own it`,
      topic,
      value: serializeEnvelope({ ...validOn(topic, `poison-${id}-y`), producer: 'mallory' }),
      reason: 'invalid',
      error: /is written by .* only; this event's producer is 'mallory'/,
    });
  }
  // Dated in the future beyond the allowed skew (default 5 minutes).
  const future = (name: string, aheadMs: number): Poison => ({
    name,
    topic: 'raw.order-events',
    value: serializeEnvelope(validOn('raw.order-events', `poison-${id}-z`, new Date(Date.now() + aheadMs))),
    reason: 'clock',
    error: /ahead of this consumer's clock/,
  });
  cases.push(future('an event an hour ahead', 3_600_000), future('an event a day ahead', 86_400_000));
  cases.push({
    ...future('an event in the year 9999', 0),
    value: envelope({ occurredAt: '9999-12-31T23:59:59.000Z', producedAt: '9999-12-31T23:59:59.000Z' }),
  });
  return cases;
}

/** The eventId of a message that parses as a JSON object with one. */
function eventIdIn(value: Buffer | null): string | undefined {
  try {
    const parsed: unknown = JSON.parse(value?.toString('utf8') ?? '');
    const eventId = (parsed as { eventId?: unknown } | null)?.eventId;
    return typeof eventId === 'string' ? eventId : undefined;
  } catch {
    return undefined;
  }
}

describe('the poison corpus on the raw topics (real Kafka)', () => {
  it('dead-letters every poison message with its reason, and every partition moves on to the valid event behind it', async () => {
    const id = suffix();
    const service = `poison-${id}`;
    const groupId = `poison-${id}`;
    await ensureTopics(kafka, [{ topic: dlqTopic(service), numPartitions: 1 }]);
    // Start the group at the topics' current ends: the corpus is all it should read.
    const ends = await fetchEndOffsets(kafka, RAW_TOPICS);
    const admin = kafkajsOf(kafka).admin();
    await admin.connect();
    try {
      for (const [topic, partitions] of ends) {
        const offsets = [...partitions].map(([partition, end]) => ({ partition, offset: end.toString() }));
        await admin.setOffsets({ groupId, topic, partitions: offsets });
      }
    } finally {
      await admin.disconnect();
    }
    const handled: AnyEvent[] = [];
    const metrics = createMetrics(service);
    const consumer = running.consume(
      { topic: RAW_TOPICS[0] as string, service, groupId, dlq: dlqTopic(service), metrics },
      async (event) => {
        handled.push(event);
      },
      { topics: [...RAW_TOPICS] },
    );
    await consumer.ready;

    const cases = corpus(id);
    expect(cases.length).toBeGreaterThanOrEqual(50);
    // Each poison message is keyed on its own, with a valid event behind it on the same partition.
    const messages: OutgoingMessage[] = [];
    const followUps: AnyEvent[] = [];
    cases.forEach((c, i) => {
      const key = `poison-${id}-${i}`;
      messages.push({ topic: c.topic, key, value: c.value as Buffer, headers: { 'x-case': String(i) } });
      const followUp = validOn(c.topic, key);
      followUps.push(followUp);
      messages.push(toMessage(c.topic, followUp));
    });
    await producer.publish(messages);

    // (The stack's services, when running, answer the follow-ups with events of their own: ignored here.)
    const wanted = new Set(followUps.map((e) => e.eventId));
    await eventually(() => expect(handled.filter((e) => wanted.has(e.eventId)).length).toBe(wanted.size), {
      timeoutMs: 60_000,
    });
    // And the handler never saw a poison message, though some are valid envelopes (wrong topic, producer, clock).
    const poisonIds = new Set(
      cases.map((c) => eventIdIn(c.value)).filter((eventId) => eventId !== undefined),
    );
    expect(handled.filter((e) => poisonIds.has(e.eventId))).toEqual([]);

    const dead = (await readDlq(kafka, dlqTopic(service))).filter((d) => d.headers['x-case'] !== undefined);
    const byCase = new Map(dead.map((d) => [Number(d.headers['x-case']), d]));
    const problems: string[] = [];
    cases.forEach((c, i) => {
      const d = byCase.get(i);
      if (!d) {
        problems.push(`${c.name}: not dead-lettered`);
        return;
      }
      if (d.headers[DLQ_REASON_HEADER] !== c.reason)
        problems.push(`${c.name}: reason ${d.headers[DLQ_REASON_HEADER]}, expected ${c.reason}`);
      if (!c.error.test(d.headers[DlqHeader.error] ?? ''))
        problems.push(`${c.name}: x-error '${d.headers[DlqHeader.error]}' does not match ${c.error}`);
      if (d.headers[DlqHeader.originalTopic] !== c.topic) problems.push(`${c.name}: wrong x-original-topic`);
    });
    expect(problems).toEqual([]);
    expect(dead).toHaveLength(cases.length);
  }, 120_000);
});
