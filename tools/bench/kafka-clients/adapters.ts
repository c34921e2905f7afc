import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stackKafka } from '@dispatch/testkit';

import type { ClientName } from './args';

/** The kafka-clients benchmark: loading each client and putting it behind one small interface. */

// Loading the clients

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const CANDIDATES_DIR = path.join(REPO_ROOT, '.stack', 'kafka-clients');
export const PACKAGE_OF: Record<ClientName, string> = {
  kafkajs: 'kafkajs',
  platformatic: '@platformatic/kafka',
  confluent: '@confluentinc/kafka-javascript',
};

export function requireFor(client: ClientName): NodeRequire {
  return client === 'kafkajs'
    ? createRequire(path.join(REPO_ROOT, 'packages', 'platform', 'package.json'))
    : createRequire(path.join(CANDIDATES_DIR, 'package.json'));
}

/** The package.json of a client, found from its entry point (some export no ./package.json). */
function manifestOf(client: ClientName): { name: string; version: string } {
  let dir = path.dirname(requireFor(client).resolve(PACKAGE_OF[client]));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (manifest.name === PACKAGE_OF[client]) return { name: manifest.name, version: manifest.version };
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json of ${PACKAGE_OF[client]} above its entry point`);
    dir = parent;
  }
}

export function versionOf(client: ClientName): string {
  return manifestOf(client).version;
}

/** Which chosen clients cannot be loaded, and why. */
export function missingClients(clients: readonly ClientName[]): { client: ClientName; why: string }[] {
  const missing: { client: ClientName; why: string }[] = [];
  for (const client of clients) {
    try {
      manifestOf(client);
      // The native binding is only found by loading it (a failed build leaves the JS behind).
      if (client === 'confluent') requireFor(client)(PACKAGE_OF[client]);
    } catch (err) {
      missing.push({ client, why: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
    }
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// One client behind one small interface

/** The eachBatch payload of kafkajs and of confluent's kafkajs-shaped API, as far as the benchmark uses it. */
interface KafkajsShapedBatch {
  batch: {
    topic: string;
    partition: number;
    messages: { value: Buffer | null }[];
    lastOffset(): string;
  };
  resolveOffset(offset: string): void;
}

export interface BenchMessage {
  key: Buffer;
  value: Buffer;
}

export interface ConsumerHooks {
  /** A partition's batch as handed to the application (before its commit). */
  onBatch(partition: number, values: (Buffer | null | undefined)[]): void;
  /** Its one offset commit is done. */
  onCommitted(count: number): void;
  onError(err: unknown): void;
}

interface ClientAdapter {
  connectProducer(): Promise<void>;
  /** One send call of these messages, acks=all; resolves once acknowledged. */
  send(messages: readonly BenchMessage[]): Promise<void>;
  disconnectProducer(): Promise<void>;
  /** Connects, subscribes from the earliest offset and starts consuming; resolves once started. */
  startConsumer(hooks: ConsumerHooks): Promise<void>;
  stopConsumer(): Promise<void>;
}

export interface WorkerSpec {
  client: ClientName;
  round: number;
  topic: string;
  groupId: string;
  brokers: string[];
  messages: number;
  size: number;
  batch: number;
  keys: number;
  latency: number;
  rate: number;
  idleS: number;
  brokerPid: number | null;
  resultFile: string;
}

/** The consumer's fetch settings, the same for all three: long poll of 1 s, 1 MiB per partition. */
const MAX_WAIT_MS = 1_000;
const MAX_BYTES_PER_PARTITION = 1_048_576;
const MAX_BYTES = 10_485_760;
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 1_000;
/** Partitions handled at once (runConsumer's default). */
const CONCURRENCY = 3;

const nextOffset = (offset: string) => (BigInt(offset) + 1n).toString();

/**
 * The local stack's admin login (its broker refuses anonymous clients), read by each worker from
 * .stack/secrets/kafka (or KAFKA_SASL_*), so no password travels on a command line.
 */
function brokerLogin(): { username: string; password: string } | undefined {
  const { sasl } = stackKafka();
  return sasl ? { username: sasl.username, password: sasl.password } : undefined;
}

/** kafkajs' and confluent's KafkaJS-shaped `sasl` option. */
export function saslOption(): { sasl?: { mechanism: 'scram-sha-512'; username: string; password: string } } {
  const login = brokerLogin();
  return login ? { sasl: { mechanism: 'scram-sha-512', ...login } } : {};
}

/** kafkajs 2.2.4 configured as packages/platform/src/kafka does. */
export function kafkajsAdapter(spec: WorkerSpec): ClientAdapter {
  // biome-ignore lint/suspicious/noExplicitAny: loaded at run time, typed at the call sites below
  const kjs: any = requireFor('kafkajs')('kafkajs');
  const kafka = new kjs.Kafka({
    clientId: `bench-kafkajs-${spec.round}`,
    brokers: spec.brokers,
    ...saslOption(),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, maxRetryTime: 10_000, retries: 8 },
    logLevel: kjs.logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, log }: { namespace: string; log: { message: string } }) =>
        process.stderr.write(`  kafkajs ${namespace}: ${log.message}\n`),
  });
  const producer = kafka.producer({
    createPartitioner: kjs.Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const consumer = kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: HEARTBEAT_MS,
    maxWaitTimeInMs: MAX_WAIT_MS,
    minBytes: 1,
    maxBytes: MAX_BYTES,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    allowAutoTopicCreation: false,
  });
  return {
    connectProducer: () => producer.connect(),
    send: (messages) =>
      producer.sendBatch({
        topicMessages: [
          { topic: spec.topic, messages: messages.map((m) => ({ key: m.key, value: m.value })) },
        ],
        acks: -1,
        timeout: 30_000,
      }),
    disconnectProducer: () => producer.disconnect(),
    async startConsumer(hooks) {
      consumer.on(consumer.events.CRASH, ({ payload }: { payload: { error: unknown } }) =>
        hooks.onError(payload.error),
      );
      await consumer.connect();
      await consumer.subscribe({ topics: [spec.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: CONCURRENCY,
        eachBatch: async ({ batch, resolveOffset }: KafkajsShapedBatch) => {
          if (batch.messages.length === 0) return;
          hooks.onBatch(
            batch.partition,
            batch.messages.map((m) => m.value),
          );
          const last = batch.lastOffset();
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: nextOffset(last) },
          ]);
          resolveOffset(last);
          hooks.onCommitted(batch.messages.length);
        },
      });
    },
    stopConsumer: () => consumer.disconnect(),
  };
}

/** @platformatic/kafka: the Java client's partitioner, idempotent, manual commits. */
export async function platformaticAdapter(spec: WorkerSpec): Promise<ClientAdapter> {
  const entry = requireFor('platformatic').resolve('@platformatic/kafka');
  // biome-ignore lint/suspicious/noExplicitAny: an ES module loaded at run time
  const plt: any = await import(pathToFileURL(entry).href);
  const clientId = `bench-platformatic-${spec.round}`;
  const sasl = brokerLogin();
  const login = sasl
    ? { sasl: { mechanism: 'SCRAM-SHA-512', username: sasl.username, password: sasl.password } }
    : {};
  const producer = new plt.Producer({
    clientId,
    bootstrapBrokers: spec.brokers,
    ...login,
    idempotent: true,
    acks: plt.ProduceAcks.ALL,
    partitioner: plt.compatibilityPartitioner,
    autocreateTopics: false,
  });
  const consumer = new plt.Consumer({
    clientId,
    groupId: spec.groupId,
    bootstrapBrokers: spec.brokers,
    ...login,
    autocommit: false,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: HEARTBEAT_MS,
    maxWaitTime: MAX_WAIT_MS,
    minBytes: 1,
    maxBytes: MAX_BYTES,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
  });
  // biome-ignore lint/suspicious/noExplicitAny: the library's MessagesStream
  let stream: any;
  return {
    // It connects on the first send.
    connectProducer: async () => {},
    send: async (messages) => {
      await producer.send({
        messages: messages.map((m) => ({ topic: spec.topic, key: m.key, value: m.value })),
      });
    },
    disconnectProducer: () => producer.close(),
    async startConsumer(hooks) {
      stream = await consumer.consume({
        topics: [spec.topic],
        mode: plt.MessagesStreamModes.COMMITTED,
        fallbackMode: plt.MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      });
      // The stream hands over one message at a time, but every message of one fetch response is
      // pushed in one go: grouping them per partition until the next turn of the event loop gives
      // the fetched batch, committed once through its last message.
      type Msg = { partition: number; value: Buffer | undefined; commit(): Promise<void> };
      let pending = new Map<number, Msg[]>();
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        const batches = pending;
        pending = new Map();
        for (const [partition, msgs] of batches) {
          hooks.onBatch(
            partition,
            msgs.map((m) => m.value),
          );
          msgs[msgs.length - 1]!.commit().then(
            () => hooks.onCommitted(msgs.length),
            (err: unknown) => hooks.onError(err),
          );
        }
      };
      stream.on('data', (message: Msg) => {
        let list = pending.get(message.partition);
        if (!list) {
          list = [];
          pending.set(message.partition, list);
        }
        list.push(message);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
      stream.on('error', (err: unknown) => hooks.onError(err));
    },
    async stopConsumer() {
      await stream?.close();
      await consumer.close();
    },
  };
}

/** @confluentinc/kafka-javascript's promisified (KafkaJS-like) API over librdkafka. */
export function confluentAdapter(spec: WorkerSpec): ClientAdapter {
  // biome-ignore lint/suspicious/noExplicitAny: loaded at run time
  const { KafkaJS }: any = requireFor('confluent')('@confluentinc/kafka-javascript');
  const clientId = `bench-confluent-${spec.round}`;
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { clientId, brokers: spec.brokers, ...saslOption(), logLevel: KafkaJS.logLevel.WARN },
  });
  const producer = kafka.producer({
    kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false },
    // Every send is awaited (outbox relay): lingering would only delay it.
    'linger.ms': 0,
  });
  const consumer = kafka.consumer({
    kafkaJS: {
      groupId: spec.groupId,
      fromBeginning: true,
      autoCommit: false,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_MS,
      maxWaitTimeInMs: MAX_WAIT_MS,
      minBytes: 1,
      maxBytes: MAX_BYTES,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      allowAutoTopicCreation: false,
    },
    // Batches are assembled client-side (default at most 32 messages); allow what 1 MiB per partition
    // holds, as a kafkajs fetch gives.
    'js.consumer.max.batch.size': Math.max(1, Math.floor(MAX_BYTES_PER_PARTITION / spec.size)),
  });
  return {
    connectProducer: () => producer.connect(),
    send: async (messages) => {
      await producer.send({
        topic: spec.topic,
        messages: messages.map((m) => ({ key: m.key, value: m.value })),
      });
    },
    disconnectProducer: () => producer.disconnect(),
    async startConsumer(hooks) {
      await consumer.connect();
      await consumer.subscribe({ topics: [spec.topic] });
      consumer
        .run({
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: CONCURRENCY,
          eachBatch: async ({ batch, resolveOffset }: KafkajsShapedBatch) => {
            if (batch.messages.length === 0) return;
            hooks.onBatch(
              batch.partition,
              batch.messages.map((m) => m.value),
            );
            const last = batch.lastOffset();
            await consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: nextOffset(last) },
            ]);
            resolveOffset(last);
            hooks.onCommitted(batch.messages.length);
          },
        })
        .catch((err: unknown) => hooks.onError(err));
    },
    stopConsumer: () => consumer.disconnect(),
  };
}
