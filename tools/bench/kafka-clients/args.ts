/** The kafka-clients benchmark (tools/bench/kafka-clients.ts): its command line. */

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

export function installHint(indent: string): string {
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
