import { randomUUID } from 'node:crypto';
import { type AnyEvent, createEvent, dlqTopic, serializeEnvelope } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import { eventually, stackAddresses } from '@dispatch/testkit';
import { Registry } from 'prom-client';
import { createEventProducer, type EventProducer, ensureTopics, type KafkaClient } from '../src/kafka';
import { kafkajsOf } from '../src/kafka/client';
import { type ConsumerLagCollector, startConsumerLagCollector } from '../src/kafka/lag';
import { type RunningService, startService } from '../src/service';
import { assertKafkaReachable, gate, suffix, testKafka, testLogger } from './helpers/kafka';

const logger = testLogger('lag-test');
let kafka: KafkaClient;
let producer: EventProducer;
const collectors: ConsumerLagCollector[] = [];

beforeAll(async () => {
  await assertKafkaReachable();
  kafka = testKafka(logger);
  producer = createEventProducer(kafka, { logger });
  await producer.connect();
});

afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await producer?.disconnect();
});

function orderCreated(orderId: string): AnyEvent {
  return createEvent({
    eventType: 'order.created',
    orderId,
    correlationId: orderId,
    producer: 'order-service',
    payload: sampleOrderCreatedPayload(orderId),
  });
}

/** Writes `count` events straight to one partition (kafkajs directly: the test picks the partition). */
async function produceTo(topic: string, partition: number, count: number): Promise<void> {
  const raw = kafkajsOf(kafka).producer();
  await raw.connect();
  try {
    await raw.send({
      topic,
      messages: Array.from({ length: count }, () => {
        const event = orderCreated(randomUUID());
        return { key: event.orderId, value: serializeEnvelope(event), partition };
      }),
    });
  } finally {
    await raw.disconnect();
  }
}

/** Commits offsets for a group that has no live member (what a consumer's OffsetCommit does). */
async function commit(groupId: string, topic: string, partitions: { partition: number; offset: string }[]) {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions });
  } finally {
    await admin.disconnect();
  }
}

function gaugeLine(group: string, topic: string, partition: number, value: number): string {
  return `kafka_consumer_lag_messages{group="${group}",topic="${topic}",partition="${partition}"} ${value}`;
}

/** The same line as a service exports it: startService's registry adds its default `service` label. */
function serviceGaugeLine(group: string, topic: string, partition: number, value: number): RegExp {
  const labels = `group="${group}",topic="${topic}",partition="${partition}"`;
  return new RegExp(`^kafka_consumer_lag_messages\\{${labels.replaceAll('.', '\\.')}[^}]*\\} ${value}$`, 'm');
}

describe('consumer lag collector against a real broker', () => {
  it('exports end offset minus committed offset per partition, and follows commits', async () => {
    const topic = `test.lag.${suffix()}`;
    const groupId = `lag-group-${suffix()}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
    await produceTo(topic, 0, 5);
    await produceTo(topic, 1, 3);
    await commit(groupId, topic, [{ partition: 0, offset: '2' }]);

    const registry = new Registry();
    const collector = startConsumerLagCollector({
      kafka,
      targets: [{ groupId, topics: [topic] }],
      registry,
      logger,
      intervalMs: 60_000,
    });
    collectors.push(collector);

    // p0: 5 written, 2 committed; p1: never committed, so the whole log; p2: empty.
    expect(await collector.collect()).toEqual([
      { group: groupId, topic, partition: 0, lag: 3 },
      { group: groupId, topic, partition: 1, lag: 3 },
      { group: groupId, topic, partition: 2, lag: 0 },
    ]);
    let text = await registry.metrics();
    expect(text).toContain(gaugeLine(groupId, topic, 0, 3));
    expect(text).toContain(gaugeLine(groupId, topic, 1, 3));
    expect(text).toContain(gaugeLine(groupId, topic, 2, 0));

    await commit(groupId, topic, [
      { partition: 0, offset: '5' },
      { partition: 1, offset: '3' },
    ]);
    await collector.collect();
    text = await registry.metrics();
    expect(text).toContain(gaugeLine(groupId, topic, 0, 0));
    expect(text).toContain(gaugeLine(groupId, topic, 1, 0));
  });

  it('counts a failed collection, keeps the last values of groups that worked, and rejects collect()', async () => {
    const topic = `test.lag.${suffix()}`;
    const groupId = `lag-group-${suffix()}`;
    const missingTopicGroup = `lag-group-${suffix()}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
    await produceTo(topic, 0, 2);

    const registry = new Registry();
    const collector = startConsumerLagCollector({
      kafka,
      targets: [
        { groupId, topics: [topic] },
        { groupId: missingTopicGroup, topics: [`test.lag.does-not-exist.${suffix()}`] },
      ],
      registry,
      logger,
      intervalMs: 60_000,
    });
    collectors.push(collector);

    await expect(collector.collect()).rejects.toThrow();
    const text = await registry.metrics();
    expect(text).toContain(gaugeLine(groupId, topic, 0, 2));
    expect(text).toMatch(
      new RegExp(`kafka_consumer_lag_collection_errors_total\\{group="${missingTopicGroup}"\\} [1-9]`),
    );
  });
});

describe('startService exports consumer lag for its consumer group', () => {
  let service: RunningService | undefined;
  let release = gate();

  afterEach(async () => {
    release.open(); // a failed assertion must not leave the handler (and so stop()) waiting
    await service?.stop();
    service = undefined;
  });

  it('shows the backlog while the handler is stuck and 0 once it caught up; alert inputs start at 0; no *_total gauges', async () => {
    const name = `lag-svc-${suffix()}`;
    const topic = `test.lag.svc.${suffix()}`;
    await ensureTopics(kafka, [
      { topic, numPartitions: 1 },
      { topic: dlqTopic(name), numPartitions: 1 },
    ]);
    release = gate();
    let handled = 0;
    service = await startService({
      name,
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      kafka: stackAddresses().kafka,
      consumerLagIntervalMs: 200,
      consumers: () => [
        {
          topics: [topic],
          handler: async () => {
            await release.opened;
            handled += 1;
          },
        },
      ],
    });
    const metricsUrl = `http://127.0.0.1:${service.port}/metrics`;
    const scrape = async () => (await fetch(metricsUrl)).text();

    const events = Array.from({ length: 4 }, () => orderCreated(randomUUID()));
    await producer.publish(events.map((e) => ({ topic, key: e.orderId, value: serializeEnvelope(e) })));

    // The first message is held by the handler, so nothing is committed: all 4 are lag.
    await eventually(async () => expect(await scrape()).toMatch(serviceGaugeLine(name, topic, 0, 4)), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    release.open();
    await eventually(
      async () => {
        expect(handled).toBe(4);
        expect(await scrape()).toMatch(serviceGaugeLine(name, topic, 0, 0));
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );

    // promtool's rule: only counters end in _total (prom-client's default nodejs_active_*_total gauges are dropped).
    const text = await scrape();
    const typed = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1], type: m[2] }));
    expect(typed.length).toBeGreaterThan(10);
    expect(typed.filter((t) => t.name?.endsWith('_total') && t.type !== 'counter')).toEqual([]);
    expect(typed).toContainEqual({ name: 'kafka_consumer_lag_messages', type: 'gauge' });
    // Alert inputs exist at 0 before anything happened, so increase() sees the first occurrence.
    for (const reason of ['invalid', 'permanent', 'exhausted']) {
      expect(text).toMatch(
        new RegExp(
          `^kafka_dlq_messages_total\\{topic="${topic.replaceAll('.', '\\.')}",reason="${reason}"[^}]*\\} 0$`,
          'm',
        ),
      );
    }
    expect(text).toMatch(
      new RegExp(`^kafka_consumer_lag_collection_errors_total\\{group="${name}"[^}]*\\} 0$`, 'm'),
    );
  });
});
