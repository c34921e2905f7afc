import {
  type AnyEvent,
  CONSUMING_SERVICES,
  consumedTopics,
  DlqHeader,
  dlqTopic,
  RAW_TOPICS,
  type RawTopic,
} from '@dispatch/contracts';
import {
  acceptEvent,
  createEventProducer,
  createKafka,
  createLogger,
  DLQ_REASON_HEADER,
  type EndOffsets,
  fetchEndOffsets,
  type KafkaClient,
  type LogRecord,
  readTopicsUntil,
} from '@dispatch/platform';
import { mapConcurrently, readOrder, stackAddresses } from '@dispatch/testkit';
import { type DeadLetterSeen, type PoisonSent, readModelMismatches } from './invariants';

/**
 * What the auditor reads on the bus: the raw topics and every DLQ, from where they stood when the
 * run began to where they stand when it is checked.
 */
export class BusAudit {
  private readonly kafka: KafkaClient;
  private rawStarts: EndOffsets = new Map();
  private dlqStarts: EndOffsets = new Map();
  private readonly dlqTopics = CONSUMING_SERVICES.map((service) => dlqTopic(service));
  readonly poison: PoisonSent[] = [];

  constructor(private readonly runId: string) {
    const logger = createLogger('chaos-audit', process.env.LOG_LEVEL ?? 'warn');
    this.kafka = createKafka({ ...stackAddresses().kafka, clientId: 'chaos-audit', logger });
  }

  /** Marks where the run starts on every topic. */
  async begin(): Promise<void> {
    this.rawStarts = await fetchEndOffsets(this.kafka, [...RAW_TOPICS]);
    this.dlqStarts = await fetchEndOffsets(this.kafka, this.dlqTopics);
  }

  /** Publishes one message that is not JSON to each raw topic: every consumer of it must dead-letter it, and nothing else. */
  async injectPoison(): Promise<void> {
    const producer = createEventProducer(this.kafka, { logger: this.kafka.logger });
    await producer.connect();
    try {
      const messages = RAW_TOPICS.map((topic) => ({
        topic,
        key: `chaos-poison-${this.runId}-${topic}`,
        value: Buffer.from(`chaos poison for ${topic}: not an event`),
      }));
      await producer.publish(messages);
      for (const m of messages) this.poison.push({ topic: m.topic, key: m.key });
    } finally {
      await producer.disconnect();
    }
  }

  /** The (service, topic) pairs whose consumer must have dead-lettered the poison. */
  expectedPoison(): { service: string; topic: RawTopic; key: string }[] {
    return CONSUMING_SERVICES.flatMap((service) =>
      consumedTopics(service).flatMap((topic) =>
        this.poison.filter((p) => p.topic === topic).map((p) => ({ service, topic, key: p.key })),
      ),
    );
  }

  /** The events (those the consumers accept) of `orderIds` published during the run, by order. */
  async eventsOf(orderIds: Set<string>): Promise<Map<string, AnyEvent[]>> {
    const byOrder = new Map<string, AnyEvent[]>();
    await this.read([...RAW_TOPICS], this.rawStarts, async (record) => {
      const key = record.key?.toString('utf8');
      if (key === undefined || !orderIds.has(key)) return;
      const accepted = acceptEvent(record.topic, record.value ?? Buffer.alloc(0), { nowMs: Date.now() });
      if (!accepted.ok) return;
      byOrder.set(key, [...(byOrder.get(key) ?? []), accepted.event]);
    });
    return byOrder;
  }

  /** Every dead letter written to a DLQ during the run. */
  async deadLetters(): Promise<DeadLetterSeen[]> {
    const seen: DeadLetterSeen[] = [];
    await this.read(this.dlqTopics, this.dlqStarts, async (record) => {
      seen.push({
        service: record.topic.slice('dlq.'.length),
        key: record.key?.toString('utf8') ?? null,
        originalTopic: record.headers[DlqHeader.originalTopic] ?? '?',
        reason: record.headers[DLQ_REASON_HEADER] ?? '?',
        error: record.headers[DlqHeader.error] ?? '',
      });
    });
    return seen;
  }

  private async read(
    topics: string[],
    starts: EndOffsets,
    handle: (record: LogRecord) => Promise<void>,
  ): Promise<void> {
    const ends = await fetchEndOffsets(this.kafka, topics);
    await readTopicsUntil(this.kafka, {
      starts,
      ends,
      idleTimeoutMs: 60_000,
      groupIdPrefix: 'chaos-audit',
      handle: async (records) => {
        for (const record of records) await handle(record);
      },
    });
  }
}

/**
 * Compares each order's read model (GET /api/orders/{id}) with the fold of its events on the raw
 * topics. query-api may still be applying the last events of an order that just ended, so a
 * mismatch is read again for up to `settleMs` before it counts.
 */
export async function readModelViolations(
  events: Map<string, AnyEvent[]>,
  orderIds: string[],
  settleMs = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  let pending = orderIds;
  let found: string[] = [];
  for (;;) {
    const results = await mapConcurrently(pending, 10, async (orderId) => {
      const served = await readOrder(orderId).catch(() => undefined);
      return { orderId, problems: readModelMismatches(orderId, events.get(orderId) ?? [], served) };
    });
    const failing = results.filter((r) => r.problems.length > 0);
    found = failing.flatMap((r) => r.problems);
    if (failing.length === 0 || Date.now() >= deadline) return found;
    pending = failing.map((r) => r.orderId);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
