import { readFlags, wholeNumberFlag } from '../cli/flags';

/** `./dispatch bench [--orders 200] [--concurrency 20] [--timeout 120] [--json <file>]` */
export interface BenchArgs {
  orders: number;
  concurrency: number;
  /** How long one order may take from POST to DELIVERED before it counts as failed. */
  orderTimeoutMs: number;
  /** Where to write the full result as JSON, if anywhere. */
  jsonFile?: string;
}

export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export const BENCH_USAGE = `Usage: ./dispatch bench [--orders 200] [--concurrency 20] [--timeout 120] [--json <file>]

Drives orders through the running stack (./dispatch up) as a user would and measures them:
each of --concurrency workers places an order (tok_visa), follows it on query-api's live
stream until a driver is assigned, completes the delivery and waits for DELIVERED, then
places the next one, until --orders orders are done. It samples every service's memory
while it runs, prints latency percentiles, throughput and memory, and exits 1 if any
order did not reach DELIVERED within --timeout seconds.
  --orders       orders to place, 1-100000 (default 200)
  --concurrency  orders in flight at once, 1-500 (default 20)
  --timeout      seconds one order may take from POST to DELIVERED (default 120)
  --json         also write the result as JSON to this file
`;

const LIMITS = {
  orders: { min: 1, max: 100_000 },
  concurrency: { min: 1, max: 500 },
  timeout: { min: 1, max: 3_600 },
} as const;

function wholeNumber(name: keyof typeof LIMITS, text: string): number {
  return wholeNumberFlag(name, text, LIMITS[name], (message) => new BenchUsageError(message));
}

/** Returns undefined for --help. */
export function parseBenchArgs(argv: string[]): BenchArgs | undefined {
  const values = readFlags(
    argv,
    ['orders', 'concurrency', 'timeout', 'json'],
    (message) => new BenchUsageError(message),
  );
  if (values === undefined) return undefined;
  const args: BenchArgs = {
    orders: wholeNumber('orders', values.orders ?? '200'),
    concurrency: wholeNumber('concurrency', values.concurrency ?? '20'),
    orderTimeoutMs: wholeNumber('timeout', values.timeout ?? '120') * 1000,
  };
  if (values.json !== undefined) {
    if (values.json === '') throw new BenchUsageError('--json needs a file name');
    args.jsonFile = values.json;
  }
  return args;
}
