import { readFlags, wholeNumberFlag } from '../cli/flags';

/** Closed loop: `./dispatch bench [--orders 200] [--concurrency 20] [--timeout 120] [--json <file>]` */
export interface BenchArgs {
  orders: number;
  concurrency: number;
  /** How long one order may take from POST to DELIVERED before it counts as failed. */
  orderTimeoutMs: number;
  /** Where to write the full result as JSON, if anywhere. */
  jsonFile?: string;
}

/** Open loop: `./dispatch bench --rate R | --rates R1,R2,… --duration S [...]` */
export interface OpenLoopArgs {
  /** Offered orders per second, one step per rate, in the order given. */
  rates: number[];
  /** Seconds of load per step. */
  durationS: number;
  /** Fraction of orders followed to DELIVERY_ASSIGNED; undefined: every order up to 20 per second. */
  sampleFraction?: number;
  /** Complete the followed orders' deliveries (as a driver app would) during the load. */
  complete: boolean;
  /** After the load, how long every accepted order may take to show up in the read model. */
  drainTimeoutMs: number;
  /** Distinct customers (tokens) the orders are spread over, round robin. */
  customers: number;
  /** Catalogue items the orders are spread over, round robin. */
  items: number;
  /** Seconds of unreported load at the first rate before the first step (JVMs compile their hot code). */
  warmupS?: number;
  jsonFile?: string;
}

/** `./dispatch bench --idle S [--json <file>]` */
export interface IdleArgs {
  durationS: number;
  jsonFile?: string;
}

export type BenchCommand =
  | ({ mode: 'closed' } & BenchArgs)
  | ({ mode: 'open' } & OpenLoopArgs)
  | ({ mode: 'idle' } & IdleArgs);

export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export const BENCH_USAGE = `Usage: ./dispatch bench [--orders 200] [--concurrency 20] [--timeout 120] [--json <file>]
       ./dispatch bench --rate R | --rates R1,R2,... --duration S [--sample F] [--complete]
                        [--drain 60] [--customers 500] [--items 8] [--warmup S] [--json <file>]
       ./dispatch bench --idle S [--json <file>]

Measures the running stack (./dispatch up) through its public APIs, as a user would.

Closed loop (the default): each of --concurrency workers places an order (tok_visa),
follows it on query-api's live stream until a driver is assigned, completes the delivery
and waits for DELIVERED, then places the next one, until --orders orders are done. It
samples every service's memory while it runs, prints latency percentiles, throughput and
memory, and exits 1 if any order did not reach DELIVERED within --timeout seconds.
  --orders       orders to place, 1-100000 (default 200)
  --concurrency  orders in flight at once, 1-500 (default 20)
  --timeout      seconds one order may take from POST to DELIVERED (default 120)

Open loop (--rate or --rates): offers a constant arrival rate: order i is due at
start + i/R and is sent then, whatever earlier orders are doing (at most 2000 in flight;
beyond that it is a client-side drop); latencies count from the due time. Orders are
one-line orders spread over --customers customers and --items catalogue items the
benchmark creates. A sample is followed on query-api's live stream to DELIVERY_ASSIGNED;
afterwards every accepted order must show up in the read model (DELIVERY_ASSIGNED or a
terminal status) within --drain seconds, the rest is backlog. Reports offered and achieved
rates, POST and saga latency p50/p99/p99.9, errors by HTTP status and the CPU seconds of
every process of the stack during the load. --rates runs one step per rate and names the
highest rate that holds. Exits 1 if an accepted order never reached the read model or a
followed order ended in a failure status.
  --rate         offered orders per second, 1-2000
  --rates        comma-separated rates, one step each (e.g. 50,100,200)
  --duration     seconds of load per step, 1-3600 (rate x duration at most 100000)
  --sample       fraction of orders followed, 0-1 (default: every order up to 20/s)
  --complete     complete the followed orders' deliveries and time complete -> DELIVERED
  --drain        seconds every accepted order may take to reach the read model after
                 the load (default 60)
  --customers    distinct customers, 1-10000 (default 500)
  --items        catalogue items, 1-100 (default 8)
  --warmup       seconds of load at the first rate before the first step, not reported,
                 1-600 (default none). Kafka and Cassandra JVMs that just started cost
                 up to twice the CPU per order until their hot code is compiled

Idle (--idle S): no load; the CPU cores each process of the stack uses for S seconds.

  --json         also write the result as JSON to this file
`;

const LIMITS = {
  orders: { min: 1, max: 100_000 },
  concurrency: { min: 1, max: 500 },
  timeout: { min: 1, max: 3_600 },
  rate: { min: 1, max: 2_000 },
  duration: { min: 1, max: 3_600 },
  drain: { min: 1, max: 3_600 },
  customers: { min: 1, max: 10_000 },
  items: { min: 1, max: 100 },
  idle: { min: 1, max: 3_600 },
  warmup: { min: 1, max: 600 },
} as const;

/** Orders one open-loop step may place (rate x duration): the stock and drivers it sets up. */
export const MAX_ORDERS_PER_STEP = 100_000;
const MAX_STEPS = 20;

const CLOSED_FLAGS = ['orders', 'concurrency', 'timeout'] as const;
const OPEN_FLAGS = [
  'rate',
  'rates',
  'duration',
  'sample',
  'complete',
  'drain',
  'customers',
  'items',
  'warmup',
] as const;

function usageError(message: string): BenchUsageError {
  return new BenchUsageError(message);
}

function wholeNumber(name: keyof typeof LIMITS, text: string): number {
  return wholeNumberFlag(name, text, LIMITS[name], usageError);
}

function ratesOf(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const bad = parts.find((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > LIMITS.rate.max);
  if (bad !== undefined || parts.length > MAX_STEPS) {
    throw usageError(
      `--rates must be 1 to ${MAX_STEPS} comma-separated whole numbers from 1 to ${LIMITS.rate.max}, got "${text}"`,
    );
  }
  return parts.map(Number);
}

function fractionOf(text: string): number {
  const value = Number(text);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !(value > 0 && value <= 1)) {
    throw usageError(`--sample must be a fraction above 0 and at most 1, got "${text}"`);
  }
  return value;
}

/** `--complete` is the one flag without a value: take it out before the shared flag reader. */
function takeSwitch(argv: string[], name: string): { rest: string[]; present: boolean } {
  const flag = `--${name}`;
  const withValue = argv.find((arg) => arg.startsWith(`${flag}=`));
  if (withValue !== undefined) throw usageError(`${flag} takes no value, got "${withValue}"`);
  const count = argv.filter((arg) => arg === flag).length;
  if (count > 1) throw usageError(`${flag} given twice`);
  return { rest: argv.filter((arg) => arg !== flag), present: count === 1 };
}

/** Returns undefined for --help. */
export function parseBenchArgs(argv: string[]): BenchCommand | undefined {
  if (argv.includes('-h') || argv.includes('--help')) return undefined;
  const { rest, present: complete } = takeSwitch(argv, 'complete');
  const values = readFlags(
    rest,
    [...CLOSED_FLAGS, ...OPEN_FLAGS.filter((name) => name !== 'complete'), 'idle', 'json'],
    usageError,
  );
  if (values === undefined) return undefined;
  const given = (names: readonly string[]) =>
    names.filter((name) => (name === 'complete' ? complete : values[name] !== undefined));
  const jsonFile = jsonFileOf(values.json);

  if (values.idle !== undefined) {
    const others = [...given(CLOSED_FLAGS), ...given(OPEN_FLAGS)];
    if (others.length > 0) throw usageError(`--idle measures the idle stack: it takes no --${others[0]}`);
    return { mode: 'idle', durationS: wholeNumber('idle', values.idle), ...jsonFile };
  }

  const open = given(OPEN_FLAGS);
  if (open.length > 0) {
    const closed = given(CLOSED_FLAGS);
    if (closed.length > 0) {
      throw usageError(
        `--${closed[0]} is for the closed loop; the open loop (--rate, --rates) does not take it`,
      );
    }
    if (values.rate !== undefined && values.rates !== undefined) {
      throw usageError('give either --rate or --rates, not both');
    }
    if (values.rate === undefined && values.rates === undefined) {
      throw usageError(`--${open[0]} needs --rate or --rates`);
    }
    if (values.duration === undefined) throw usageError('--rate and --rates need --duration');
    const rates = values.rates !== undefined ? ratesOf(values.rates) : [wholeNumber('rate', values.rate!)];
    const durationS = wholeNumber('duration', values.duration);
    const busiest = Math.max(...rates);
    if (busiest * durationS > MAX_ORDERS_PER_STEP) {
      throw usageError(
        `--rate x --duration must be at most ${MAX_ORDERS_PER_STEP} orders per step, got ${busiest} x ${durationS}`,
      );
    }
    return {
      mode: 'open',
      rates,
      durationS,
      ...(values.sample !== undefined ? { sampleFraction: fractionOf(values.sample) } : {}),
      complete,
      drainTimeoutMs: wholeNumber('drain', values.drain ?? '60') * 1000,
      customers: wholeNumber('customers', values.customers ?? '500'),
      items: wholeNumber('items', values.items ?? '8'),
      ...(values.warmup !== undefined ? { warmupS: wholeNumber('warmup', values.warmup) } : {}),
      ...jsonFile,
    };
  }

  return {
    mode: 'closed',
    orders: wholeNumber('orders', values.orders ?? '200'),
    concurrency: wholeNumber('concurrency', values.concurrency ?? '20'),
    orderTimeoutMs: wholeNumber('timeout', values.timeout ?? '120') * 1000,
    ...jsonFile,
  };
}

function jsonFileOf(value: string | undefined): { jsonFile?: string } {
  if (value === undefined) return {};
  if (value === '') throw usageError('--json needs a file name');
  return { jsonFile: value };
}
