import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { stackKafka } from '@dispatch/testkit';
import { type TailSummary, tailSummary } from './stats';

/**
 * Kafka client comparison: which Node client should packages/platform/src/kafka use?
 *
 *   pnpm exec tsx tools/bench/kafka-clients.ts [--messages 50000] [--size 500] [--clients kafkajs,platformatic,confluent]
 *
 * For each client, against the local broker, on a fresh 6-partition topic, in a process of its own
 * (so process.cpuUsage() is that client's alone, every thread included):
 *  1. produce: `--messages` values of `--size` bytes keyed over `--keys` keys, `--batch` per send, each
 *     send awaited before the next (as the outbox relay publishes), acks=all, idempotent;
 *  2. consume them all as a fresh consumer group, one offset commit per partition batch (as runConsumer);
 *  3. latency: `--latency` single messages, one send each at `--rate`/s, with the consumer running;
 *  4. idle: the consumer subscribed, the producer disconnected, nothing arriving, for `--idle` seconds:
 *     the client's CPU and the Kafka broker's (utime+stime of its JVM from /proc/<pid>/stat).
 *
 * kafkajs comes from the workspace (packages/platform's dependency). The two candidates are kept out
 * of the workspace on purpose (CI must not build librdkafka): they are loaded from
 * .stack/kafka-clients/ (git-ignored), see INSTALL_HINT.
 */

export const CLIENT_NAMES = ['kafkajs', 'platformatic', 'confluent'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

export interface KafkaClientsArgs {
  messages: number;
  size: number;
  clients: ClientName[];
  /** How many times every client runs; rounds run one after the other (A B C A B C). */
  rounds: number;
  /** Messages per send call in the produce step. */
  batch: number;
  keys: number;
  /** Single messages of the latency step (0: skip it). */
  latency: number;
  /** Messages per second of the latency step. */
  rate: number;
  /** Seconds of the idle step (0: skip it). */
  idleS: number;
  brokers: string[];
  partitions: number;
  /** Print the JSON document instead of the tables. */
  json: boolean;
}

export class KafkaClientsUsageError extends Error {}

export const KAFKA_CLIENTS_USAGE = `usage: pnpm exec tsx tools/bench/kafka-clients.ts [options]

Compares Kafka clients against the local broker: produce and consume throughput with CPU per
message, produce->consume latency, and the idle cost of a subscribed consumer (client and broker CPU).

  --messages N      messages produced and consumed per client (default 50000)
  --size B          bytes per message value, 8 to 1000000 (default 500)
  --clients LIST    comma-separated, any of ${CLIENT_NAMES.join(',')} (default all)
  --rounds R        run every client R times, interleaved (default 1)
  --batch B         messages per send in the produce step (default 250)
  --keys K          distinct keys (default 1000)
  --latency N       single messages of the latency step, 0 skips it (default 1000)
  --rate R          messages per second of the latency step (default 200)
  --idle S          seconds of the idle step, 0 skips it (default 20)
  --brokers LIST    host:port,... on this machine (default $KAFKA_BROKERS or 127.0.0.1:9092)
  --partitions P    partitions of each fresh topic (default 6)
  --json            print the results as JSON instead of tables
  -h, --help        this text

The candidates are not workspace dependencies; install them into .stack/kafka-clients/ first:
${installHint('  ')}`;

function installHint(indent: string): string {
  return [
    'npm install --prefix .stack/kafka-clients @platformatic/kafka@1.35.0',
    'apt-get install -y librdkafka-dev build-essential python3   # compiler, headers',
    'BUILD_LIBRDKAFKA=1 CKJS_LINKING=dynamic npm_config_build_from_source=true \\',
    '  npm install --prefix .stack/kafka-clients @confluentinc/kafka-javascript@1.10.1',
  ]
    .map((line) => `${indent}${line}\n`)
    .join('');
}

const VALUE_FLAGS = [
  'messages',
  'size',
  'clients',
  'rounds',
  'batch',
  'keys',
  'latency',
  'rate',
  'idle',
  'brokers',
  'partitions',
] as const;

/** Parses the command line; undefined for --help. Throws KafkaClientsUsageError on anything wrong. */
export function parseKafkaClientsArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): KafkaClientsArgs | undefined {
  const fail = (message: string) => new KafkaClientsUsageError(message);
  const values: Partial<Record<(typeof VALUE_FLAGS)[number], string>> = {};
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return undefined;
    if (arg === '--json') {
      if (json) throw fail('--json given twice');
      json = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1] as (typeof VALUE_FLAGS)[number] | undefined;
    if (!match || !name || !VALUE_FLAGS.includes(name)) throw fail(`unknown argument "${arg}"`);
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      i += 1;
      if (value === undefined || value.startsWith('--')) throw fail(`--${name} needs a value`);
    }
    if (values[name] !== undefined) throw fail(`--${name} given twice`);
    values[name] = value;
  }
  const whole = (name: (typeof VALUE_FLAGS)[number], fallback: number, min: number, max: number) => {
    const text = values[name];
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw fail(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    return Number(text);
  };
  return {
    messages: whole('messages', 50_000, 1, 10_000_000),
    size: whole('size', 500, 8, 1_000_000),
    clients: parseClients(values.clients, fail),
    rounds: whole('rounds', 1, 1, 10),
    batch: whole('batch', 250, 1, 10_000),
    keys: whole('keys', 1_000, 1, 1_000_000),
    latency: whole('latency', 1_000, 0, 100_000),
    rate: whole('rate', 200, 1, 10_000),
    idleS: whole('idle', 20, 0, 600),
    brokers: parseBrokers(values.brokers ?? env.KAFKA_BROKERS ?? '127.0.0.1:9092', fail),
    partitions: whole('partitions', 6, 1, 1_000),
    json,
  };
}

function parseClients(text: string | undefined, fail: (m: string) => Error): ClientName[] {
  if (text === undefined) return [...CLIENT_NAMES];
  const names = text.split(',').map((s) => s.trim());
  const chosen: ClientName[] = [];
  for (const name of names) {
    if (!(CLIENT_NAMES as readonly string[]).includes(name)) {
      throw fail(`--clients: unknown client "${name}" (known: ${CLIENT_NAMES.join(', ')})`);
    }
    if (chosen.includes(name as ClientName)) throw fail(`--clients: "${name}" given twice`);
    chosen.push(name as ClientName);
  }
  return chosen;
}

/** host:port pairs on this machine only: the benchmark creates and deletes topics and loads the broker. */
function parseBrokers(text: string, fail: (m: string) => Error): string[] {
  const brokers = text.split(',').map((s) => s.trim());
  for (const broker of brokers) {
    const match = /^(.+):(\d{1,5})$/.exec(broker);
    const host = match?.[1]?.replace(/^\[|\]$/g, '');
    if (!match || !host || Number(match[2]) > 65_535) {
      throw fail(`--brokers: "${broker}" is not host:port`);
    }
    if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
      throw fail(`--brokers: "${broker}" is not on this machine (loopback addresses only)`);
    }
  }
  return brokers;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested)

/** utime + stime (fields 14 and 15) of /proc/<pid>/stat, in clock ticks; counted from the last ')'. */
export function parseUtimeStime(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // After ')': field 3 (state) is index 0, so field n is index n - 3.
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || fields.length < 13) return undefined;
  return utime + stime;
}

/**
 * From `ss -tinpH state established` output: the TCP connections of `pid` to any of `ports`, and their
 * data segments sent and received so far (at idle, one request or response is about one segment).
 */
export function parseSsSegments(
  text: string,
  pid: number,
  ports: readonly number[],
): { connections: number; dataSegsOut: number; dataSegsIn: number } {
  const result = { connections: 0, dataSegsOut: 0, dataSegsIn: 0 };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (!line.includes(`pid=${pid},`)) continue;
    const peerPort = Number(/\s\S+:(\d+)\s+users:/.exec(line)?.[1]);
    if (!ports.includes(peerPort)) continue;
    // The counters are on the same line or on the next, indented one.
    const info = /data_segs_out:/.test(line) ? line : (lines[i + 1] ?? '');
    result.connections += 1;
    result.dataSegsOut += Number(/data_segs_out:(\d+)/.exec(info)?.[1] ?? 0);
    result.dataSegsIn += Number(/data_segs_in:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return result;
}

const BULK = 0x42; // 'B'
const PROBE = 0x4c; // 'L'

/** A message value of `size` bytes: a marker byte (bulk or latency probe), a 32-bit id, filler. */
export function encodeValue(kind: 'bulk' | 'probe', id: number, size: number): Buffer {
  const value = Buffer.alloc(size, 0x2e);
  value[0] = kind === 'bulk' ? BULK : PROBE;
  value.writeUInt32BE(id >>> 0, 1);
  return value;
}

export function decodeValue(
  value: Buffer | null | undefined,
): { kind: 'bulk' | 'probe'; id: number } | undefined {
  if (!value || value.length < 5) return undefined;
  if (value[0] !== BULK && value[0] !== PROBE) return undefined;
  return { kind: value[0] === BULK ? 'bulk' : 'probe', id: value.readUInt32BE(1) };
}

/** CPU milliseconds per 1000 messages. */
export function cpuPer1k(cpuMs: number, messages: number): number {
  return messages > 0 ? (cpuMs * 1000) / messages : Number.NaN;
}

export function mean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

/** The middle value (mean of the two middle ones for an even count), NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** value / reference, NaN when either is missing or the reference is 0. */
export function ratio(value: number, reference: number): number {
  return Number.isFinite(value) && Number.isFinite(reference) && reference !== 0
    ? value / reference
    : Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface PhaseResult {
  messages: number;
  wallMs: number;
  perSecond: number;
  cpuMs: number;
  cpuMsPer1k: number;
  /** Broker JVM CPU in the same window, per 1000 messages (includes the rest of the stack's load). */
  brokerCpuMsPer1k: number | null;
}

export interface RunResult {
  client: ClientName;
  version: string;
  round: number;
  topic: string;
  produce: PhaseResult & { sends: number };
  consume: PhaseResult & {
    /** From the consumer's start (connect, join, first fetch) to its first message. */
    firstMessageMs: number;
    commits: number;
    meanBatch: number;
  };
  latency:
    | (TailSummary & {
        sent: number;
        /** Probes per second asked for, and sent (lower when a send's round trip exceeds the interval). */
        rate: number;
        achievedRate: number;
        /** Median time from send() to its acknowledgement. */
        ackP50: number | null;
        sendErrors: number;
      })
    | null;
  idle: {
    seconds: number;
    clientCpuMsPerS: number;
    brokerCpuMsPerS: number | null;
    /** The median of the window's one-second slices. */
    clientCpuMsPerSMedianSlice: number;
    brokerCpuMsPerSMedianSlice: number | null;
    /** TCP connections to the broker, and data segments per second both ways (≈ requests + responses). */
    connections: number | null;
    segmentsPerS: number | null;
  } | null;
  rssMiB: number;
}

export interface BaselineResult {
  round: number;
  seconds: number;
  brokerCpuMsPerS: number | null;
}

export interface KafkaClientsReport {
  startedAt: string;
  node: string;
  loadavg: number[];
  args: Omit<KafkaClientsArgs, 'json'>;
  brokerPid: number | null;
  runs: RunResult[];
  /** The broker's CPU with none of the benchmark's clients connected (the stack's own idle load). */
  baselines: BaselineResult[];
  failures: { client: ClientName; round: number; error: string }[];
}

// ---------------------------------------------------------------------------------------------
// Loading the clients

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CANDIDATES_DIR = path.join(REPO_ROOT, '.stack', 'kafka-clients');
const PACKAGE_OF: Record<ClientName, string> = {
  kafkajs: 'kafkajs',
  platformatic: '@platformatic/kafka',
  confluent: '@confluentinc/kafka-javascript',
};

function requireFor(client: ClientName): NodeRequire {
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

function versionOf(client: ClientName): string {
  return manifestOf(client).version;
}

/** Which chosen clients cannot be loaded, and why. */
function missingClients(clients: readonly ClientName[]): { client: ClientName; why: string }[] {
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

interface BenchMessage {
  key: Buffer;
  value: Buffer;
}

interface ConsumerHooks {
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

interface WorkerSpec {
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
function saslOption(): { sasl?: { mechanism: 'scram-sha-512'; username: string; password: string } } {
  const login = brokerLogin();
  return login ? { sasl: { mechanism: 'scram-sha-512', ...login } } : {};
}

/** kafkajs 2.2.4 configured as packages/platform/src/kafka does. */
function kafkajsAdapter(spec: WorkerSpec): ClientAdapter {
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
async function platformaticAdapter(spec: WorkerSpec): Promise<ClientAdapter> {
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
function confluentAdapter(spec: WorkerSpec): ClientAdapter {
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

// ---------------------------------------------------------------------------------------------
// The worker: one client, one round, in its own process

function readBrokerTicks(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return parseUtimeStime(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? null;
  } catch {
    return null;
  }
}

/** This process's connections to the broker, from `ss` (child process CPU is not in cpuUsage()). */
function ownSegments(ports: readonly number[]): ReturnType<typeof parseSsSegments> | null {
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('ss', ['-tinpH', 'state', 'established'], { encoding: 'utf8' });
    return parseSsSegments(out, process.pid, ports);
  } catch {
    return null;
  }
}

let clockTicksPerSecond = 100;

function brokerMs(ticksStart: number | null, ticksEnd: number | null): number | null {
  return ticksStart === null || ticksEnd === null
    ? null
    : ((ticksEnd - ticksStart) * 1000) / clockTicksPerSecond;
}

const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

async function runWorker(spec: WorkerSpec, ticksPerSecond: number): Promise<RunResult> {
  clockTicksPerSecond = ticksPerSecond;
  const log = (line: string) =>
    process.stderr.write(`kafka-clients: [${spec.client} #${spec.round}] ${line}\n`);
  const adapter =
    spec.client === 'kafkajs'
      ? kafkajsAdapter(spec)
      : spec.client === 'platformatic'
        ? await platformaticAdapter(spec)
        : confluentAdapter(spec);

  const keys = Array.from({ length: spec.keys }, (_, i) => Buffer.from(`key-${i}`));
  const bulk: BenchMessage[] = Array.from({ length: spec.messages }, (_, i) => ({
    key: keys[i % keys.length]!,
    value: encodeValue('bulk', i, spec.size),
  }));

  // 1. produce
  await adapter.connectProducer();
  let sends = 0;
  let cpu = process.cpuUsage();
  let ticks = readBrokerTicks(spec.brokerPid);
  let t0 = performance.now();
  for (let i = 0; i < bulk.length; i += spec.batch) {
    await adapter.send(bulk.slice(i, i + spec.batch));
    sends += 1;
  }
  const produceWall = performance.now() - t0;
  const produceCpu = cpuMsSince(cpu);
  const produceBroker = brokerMs(ticks, readBrokerTicks(spec.brokerPid));
  log(`produced ${spec.messages} in ${(produceWall / 1000).toFixed(2)} s`);

  // 2. consume the backlog, then 3. latency probes, with the same consumer
  const sentAt = new Float64Array(spec.latency).fill(Number.NaN);
  const latencies: number[] = [];
  let bulkSeen = 0;
  let probesSeen = 0;
  let committed = 0;
  let commits = 0;
  let firstMessageAt = Number.NaN;
  let consumerError: unknown;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  const until = async (done: () => boolean, timeoutMs: number, what: string) => {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      if (consumerError) throw consumerError;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 250));
      });
      wake = undefined;
    }
  };
  const hooks: ConsumerHooks = {
    onBatch(_partition, values) {
      const now = performance.now();
      if (Number.isNaN(firstMessageAt)) firstMessageAt = now;
      for (const value of values) {
        const decoded = decodeValue(value);
        if (!decoded) continue;
        if (decoded.kind === 'bulk') {
          bulkSeen += 1;
        } else if (decoded.id < sentAt.length && !Number.isNaN(sentAt[decoded.id]!)) {
          latencies.push(now - sentAt[decoded.id]!);
          sentAt[decoded.id] = Number.NaN;
          probesSeen += 1;
        }
      }
    },
    onCommitted(count) {
      committed += count;
      commits += 1;
      poke();
    },
    onError(err) {
      consumerError ??= err;
      poke();
    },
  };
  cpu = process.cpuUsage();
  ticks = readBrokerTicks(spec.brokerPid);
  const consumeStart = performance.now();
  await adapter.startConsumer(hooks);
  await until(() => committed >= spec.messages, 300_000, `${spec.messages} messages consumed and committed`);
  const consumeWall = performance.now() - consumeStart;
  const consumeCpu = cpuMsSince(cpu);
  const consumeBroker = brokerMs(ticks, readBrokerTicks(spec.brokerPid));
  const consumeCommits = commits;
  log(`consumed ${bulkSeen} in ${(consumeWall / 1000).toFixed(2)} s, ${consumeCommits} commits`);

  let latency: RunResult['latency'] = null;
  if (spec.latency > 0) {
    await sleep(1_000);
    const interval = 1000 / spec.rate;
    let sendErrors = 0;
    const acks: number[] = [];
    // One send at a time, as the outbox relay publishes: a probe is sent when it is due, or when the
    // previous send is acknowledged if that is later (so a client whose round trip exceeds the
    // interval sends fewer than --rate per second; the achieved rate is reported). Its latency runs
    // from its send() call to the consumer's handler. (Concurrent sends would also break the
    // idempotent producer of @platformatic/kafka 1.x: out-of-order sequence numbers.)
    const start = performance.now();
    let lastSendAt = start;
    for (let i = 0; i < spec.latency; i += 1) {
      const wait = start + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      const probe = { key: keys[i % keys.length]!, value: encodeValue('probe', i, spec.size) };
      lastSendAt = performance.now();
      sentAt[i] = lastSendAt;
      try {
        await adapter.send([probe]);
        acks.push(performance.now() - lastSendAt);
      } catch (err) {
        sendErrors += 1;
        if (sendErrors <= 3) log(`probe ${i} not sent: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const sendSeconds = (lastSendAt - start) / 1000;
    await until(() => probesSeen + sendErrors >= spec.latency, 10_000, 'the latency probes').catch(
      (err: unknown) => log(err instanceof Error ? err.message : String(err)),
    );
    latency = {
      ...tailSummary(latencies, spec.latency - latencies.length),
      sent: spec.latency,
      rate: spec.rate,
      achievedRate: sendSeconds > 0 ? (spec.latency - 1) / sendSeconds : Number.NaN,
      ackP50: tailSummary(acks).p50,
      sendErrors,
    };
    log(`latency p50 ${latency.p50?.toFixed(1)} ms, p99 ${latency.p99?.toFixed(1)} ms`);
  }
  await adapter.disconnectProducer();

  // 4. idle: the consumer alone, nothing arriving
  let idle: RunResult['idle'] = null;
  if (spec.idleS > 0) {
    await sleep(2_000);
    const ports = spec.brokers.map((b) => Number(b.slice(b.lastIndexOf(':') + 1)));
    const segmentsBefore = ownSegments(ports);
    cpu = process.cpuUsage();
    ticks = readBrokerTicks(spec.brokerPid);
    t0 = performance.now();
    // Also per one-second slice: the median slice leaves out one-off work in the window (V8's memory
    // reducer runs a few full GCs some seconds after a busy phase; another process's burst on the broker).
    const clientSlices: number[] = [];
    const brokerSlices: number[] = [];
    let sliceCpu = process.cpuUsage();
    let sliceTicks = ticks;
    let sliceStart = t0;
    while (performance.now() - t0 < spec.idleS * 1000 - 1) {
      await sleep(Math.min(1000, spec.idleS * 1000 - (performance.now() - t0)));
      const now = performance.now();
      const nowTicks = readBrokerTicks(spec.brokerPid);
      const sliceS = (now - sliceStart) / 1000;
      clientSlices.push(cpuMsSince(sliceCpu) / sliceS);
      const b = brokerMs(sliceTicks, nowTicks);
      if (b !== null) brokerSlices.push(b / sliceS);
      sliceCpu = process.cpuUsage();
      sliceTicks = nowTicks;
      sliceStart = now;
    }
    const seconds = (performance.now() - t0) / 1000;
    const idleCpu = cpuMsSince(cpu);
    const idleBroker = brokerMs(ticks, readBrokerTicks(spec.brokerPid));
    const segmentsAfter = ownSegments(ports);
    idle = {
      seconds,
      clientCpuMsPerS: idleCpu / seconds,
      brokerCpuMsPerS: idleBroker === null ? null : idleBroker / seconds,
      clientCpuMsPerSMedianSlice: median(clientSlices),
      brokerCpuMsPerSMedianSlice: brokerSlices.length > 0 ? median(brokerSlices) : null,
      connections: segmentsAfter?.connections ?? null,
      segmentsPerS:
        segmentsBefore && segmentsAfter
          ? (segmentsAfter.dataSegsOut +
              segmentsAfter.dataSegsIn -
              segmentsBefore.dataSegsOut -
              segmentsBefore.dataSegsIn) /
            seconds
          : null,
    };
    log(`idle: client ${idle.clientCpuMsPerS.toFixed(2)} ms/s`);
  }
  if (consumerError) throw consumerError;
  const rssMiB = process.memoryUsage().rss / 1024 / 1024;
  await adapter.stopConsumer();

  const phase = (messages: number, wallMs: number, cpuMs: number, broker: number | null): PhaseResult => ({
    messages,
    wallMs,
    perSecond: (messages * 1000) / wallMs,
    cpuMs,
    cpuMsPer1k: cpuPer1k(cpuMs, messages),
    brokerCpuMsPer1k: broker === null ? null : cpuPer1k(broker, messages),
  });
  return {
    client: spec.client,
    version: versionOf(spec.client),
    round: spec.round,
    topic: spec.topic,
    produce: { ...phase(spec.messages, produceWall, produceCpu, produceBroker), sends },
    consume: {
      ...phase(spec.messages, consumeWall, consumeCpu, consumeBroker),
      firstMessageMs: firstMessageAt - consumeStart,
      commits: consumeCommits,
      meanBatch: spec.messages / consumeCommits,
    },
    latency,
    idle,
    rssMiB,
  };
}

// ---------------------------------------------------------------------------------------------
// The parent: topics, baselines, one worker process per client and round, the report

function clockTicks(): number {
  // USER_HZ is 100 on every Linux build that matters; read it when getconf is there.
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** The Kafka JVM's pid: .stack/pids/kafka.pid, else the process whose command line names kafka.Kafka. */
export function findBrokerPid(): number | null {
  const isBroker = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
    } catch {
      return false;
    }
  };
  const pidFile = path.join(REPO_ROOT, '.stack', 'pids', 'kafka.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && isBroker(pid)) return pid;
  }
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('pgrep', ['-f', 'kafka\\.Kafka'], { encoding: 'utf8' });
    const pid = out
      .split('\n')
      .map(Number)
      .find((p) => Number.isInteger(p) && p > 0 && isBroker(p));
    return pid ?? null;
  } catch {
    return null;
  }
}

function runWorkerProcess(spec: WorkerSpec, ticksPerSecond: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, __filename, '__worker', JSON.stringify(spec), String(ticksPerSecond)],
      // The worker's own output (and any client's logging) goes to stderr: stdout stays the report.
      { stdio: ['ignore', process.stderr, process.stderr] },
    );
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`worker exited with ${signal ?? code}`);
        resolve(JSON.parse(readFileSync(spec.resultFile, 'utf8')) as RunResult);
      } catch (err) {
        reject(err);
      } finally {
        rmSync(spec.resultFile, { force: true });
      }
    });
  });
}

async function runComparison(args: KafkaClientsArgs): Promise<KafkaClientsReport> {
  const log = (line: string) => process.stderr.write(`kafka-clients: ${line}\n`);
  const ticksPerSecond = clockTicks();
  const brokerPid = findBrokerPid();
  if (brokerPid === null) log('the Kafka JVM was not found (.stack/pids/kafka.pid, pgrep): no broker CPU');
  // biome-ignore lint/suspicious/noExplicitAny: loaded at run time
  const kjs: any = requireFor('kafkajs')('kafkajs');
  const admin = new kjs.Kafka({
    clientId: 'bench-kafka-clients-admin',
    brokers: args.brokers,
    ...saslOption(),
    logLevel: kjs.logLevel.ERROR,
  }).admin();
  const runId = `${Date.now().toString(36)}`;
  const plan: WorkerSpec[] = [];
  for (let round = 1; round <= args.rounds; round += 1) {
    for (const client of args.clients) {
      const name = `${runId}.${client}.${round}`;
      plan.push({
        client,
        round,
        topic: `bench.kafka-clients.${name}`,
        groupId: `bench-kafka-clients.${name}`,
        brokers: args.brokers,
        messages: args.messages,
        size: args.size,
        batch: args.batch,
        keys: args.keys,
        latency: args.latency,
        rate: args.rate,
        idleS: args.idleS,
        brokerPid,
        resultFile: path.join(tmpdir(), `kafka-clients-${process.pid}-${name}.json`),
      });
    }
  }
  const { messages: _m, json: _json, ...rest } = args;
  const report: KafkaClientsReport = {
    startedAt: new Date().toISOString(),
    node: process.version,
    loadavg: loadavg(),
    args: { messages: args.messages, ...rest },
    brokerPid,
    runs: [],
    baselines: [],
    failures: [],
  };
  await admin.connect();
  try {
    await admin.createTopics({
      topics: plan.map((s) => ({ topic: s.topic, numPartitions: args.partitions, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    await admin.disconnect();
    for (let round = 1; round <= args.rounds; round += 1) {
      if (args.idleS > 0 && brokerPid !== null) {
        const ticks = readBrokerTicks(brokerPid);
        const t0 = performance.now();
        log(`round ${round}: broker baseline, ${args.idleS} s with no benchmark client connected`);
        await sleep(args.idleS * 1000);
        const seconds = (performance.now() - t0) / 1000;
        clockTicksPerSecond = ticksPerSecond;
        const ms = brokerMs(ticks, readBrokerTicks(brokerPid));
        report.baselines.push({ round, seconds, brokerCpuMsPerS: ms === null ? null : ms / seconds });
      }
      for (const spec of plan.filter((s) => s.round === round)) {
        log(`round ${round}: ${spec.client} on ${spec.topic}`);
        try {
          report.runs.push(await runWorkerProcess(spec, ticksPerSecond));
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          log(`round ${round}: ${spec.client} failed: ${error}`);
          report.failures.push({ client: spec.client, round, error });
        }
      }
    }
  } finally {
    // Leave the broker as it was: the topics and groups are the benchmark's own.
    try {
      await admin.connect();
      await admin.deleteTopics({ topics: plan.map((s) => s.topic) }).catch(() => {});
      await admin.deleteGroups(plan.map((s) => s.groupId)).catch(() => {});
      await admin.disconnect();
    } catch (err) {
      log(`cleaning up the benchmark topics failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const fmt = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const fmtRatio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

/** One metric: how it is read off a run, its label, its decimals. */
interface Metric {
  label: string;
  digits: number;
  get(run: RunResult): number | null | undefined;
}

export const METRICS: Metric[] = [
  { label: 'produce msg/s', digits: 0, get: (r) => r.produce.perSecond },
  { label: 'produce CPU ms/1k', digits: 1, get: (r) => r.produce.cpuMsPer1k },
  { label: 'broker CPU ms/1k (produce)', digits: 1, get: (r) => r.produce.brokerCpuMsPer1k },
  { label: 'consume msg/s', digits: 0, get: (r) => r.consume.perSecond },
  { label: 'consumer start → 1st msg ms', digits: 0, get: (r) => r.consume.firstMessageMs },
  { label: 'consume CPU ms/1k', digits: 1, get: (r) => r.consume.cpuMsPer1k },
  { label: 'broker CPU ms/1k (consume)', digits: 1, get: (r) => r.consume.brokerCpuMsPer1k },
  { label: 'commits (mean batch)', digits: 0, get: (r) => r.consume.commits },
  { label: 'latency p50 ms', digits: 1, get: (r) => r.latency?.p50 },
  { label: 'latency p99 ms', digits: 1, get: (r) => r.latency?.p99 },
  { label: 'probe send→ack p50 ms', digits: 1, get: (r) => r.latency?.ackP50 },
  { label: 'probes sent per s', digits: 0, get: (r) => r.latency?.achievedRate },
  { label: 'idle client CPU ms/s', digits: 2, get: (r) => r.idle?.clientCpuMsPerS },
  { label: 'idle client CPU, median 1-s slice', digits: 2, get: (r) => r.idle?.clientCpuMsPerSMedianSlice },
  { label: 'idle broker CPU ms/s', digits: 1, get: (r) => r.idle?.brokerCpuMsPerS },
  { label: 'idle broker CPU, median 1-s slice', digits: 1, get: (r) => r.idle?.brokerCpuMsPerSMedianSlice },
  { label: 'idle TCP segments/s', digits: 1, get: (r) => r.idle?.segmentsPerS },
  { label: 'idle connections', digits: 0, get: (r) => r.idle?.connections },
  { label: 'RSS MiB', digits: 0, get: (r) => r.rssMiB },
];

function num(value: number | null | undefined): number {
  return value === null || value === undefined ? Number.NaN : value;
}

/** Per metric and client: the mean over the client's rounds, and its ratio to the reference client's. */
export function summarizeRuns(
  runs: readonly RunResult[],
  clients: readonly ClientName[],
): {
  reference: ClientName | undefined;
  rows: { label: string; byClient: { mean: number; ratio: number }[] }[];
} {
  const present = clients.filter((c) => runs.some((r) => r.client === c));
  const reference = present.includes('kafkajs') ? 'kafkajs' : present[0];
  const rows = METRICS.map((metric) => {
    const means = new Map(
      present.map((c) => [c, mean(runs.filter((r) => r.client === c).map((r) => num(metric.get(r))))]),
    );
    const ref = reference === undefined ? Number.NaN : means.get(reference)!;
    return {
      label: metric.label,
      byClient: present.map((c) => ({ mean: means.get(c)!, ratio: ratio(means.get(c)!, ref) })),
    };
  });
  return { reference, rows };
}

export function renderKafkaClientsReport(report: KafkaClientsReport): string {
  const out: string[] = [];
  const { args } = report;
  out.push(
    `Kafka clients: ${args.messages} × ${args.size} B, ${args.keys} keys, ${args.batch}/send, ` +
      `${args.partitions} partitions, latency ${args.latency} at ${args.rate}/s, idle ${args.idleS} s, ` +
      `${args.rounds} round(s); node ${report.node}, load ${report.loadavg.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const runs = [...report.runs].sort((a, b) => a.round - b.round);
  out.push('');
  out.push('Each run:');
  const header = ['metric', ...runs.map((r) => `${r.client} ${r.version} #${r.round}`)];
  const lines = METRICS.map((m) => [
    m.label,
    ...runs.map((r) =>
      m.label.startsWith('commits')
        ? `${r.consume.commits} (${fmt(r.consume.meanBatch)})`
        : fmt(m.get(r), m.digits),
    ),
  ]);
  out.push(...table(header, lines));
  const present = args.clients.filter((c) => runs.some((r) => r.client === c));
  const { reference, rows } = summarizeRuns(runs, present);
  if (present.length > 0) {
    out.push('');
    out.push(`Mean over rounds (ratio to ${reference}):`);
    out.push(
      ...table(
        ['metric', ...present],
        rows.map((row, i) => [
          row.label,
          ...row.byClient.map(({ mean: m, ratio: r }) => `${fmt(m, METRICS[i]!.digits)} (${fmtRatio(r)})`),
        ]),
      ),
    );
  }
  if (report.baselines.length > 0) {
    out.push('');
    out.push(
      `Broker baseline with no benchmark client (the rest of the stack idling): ${report.baselines
        .map((b) => `${fmt(b.brokerCpuMsPerS, 1)} ms/s`)
        .join(', ')}`,
    );
  }
  for (const f of report.failures) out.push(`FAILED: ${f.client} round ${f.round}: ${f.error}`);
  return `${out.join('\n')}\n`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ];
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '__worker') {
    const spec = JSON.parse(argv[1]!) as WorkerSpec;
    const result = await runWorker(spec, Number(argv[2]) || 100);
    writeFileSync(spec.resultFile, JSON.stringify(result));
    return 0;
  }
  let args: KafkaClientsArgs | undefined;
  try {
    args = parseKafkaClientsArgs(argv);
  } catch (err) {
    if (!(err instanceof KafkaClientsUsageError)) throw err;
    process.stderr.write(`kafka-clients: ${err.message}\n\n${KAFKA_CLIENTS_USAGE}`);
    return 2;
  }
  if (args === undefined) {
    process.stdout.write(KAFKA_CLIENTS_USAGE);
    return 0;
  }
  const missing = missingClients(args.clients);
  if (missing.length > 0) {
    process.stderr.write(
      `kafka-clients: cannot load ${missing.map((m) => m.client).join(', ')}:\n${missing
        .map((m) => `  ${PACKAGE_OF[m.client]}: ${m.why}\n`)
        .join('')}` +
        `The candidate clients live outside the workspace, in .stack/kafka-clients/ (git-ignored). Install them with:\n${installHint('  ')}` +
        `or leave them out with --clients.\n`,
    );
    return 1;
  }
  const report = await runComparison(args);
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderKafkaClientsReport(report));
  return report.failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `kafka-clients: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
