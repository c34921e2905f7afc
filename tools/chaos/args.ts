import { SERVICE_NAMES, type ServiceName } from '@dispatch/testkit';
import { readFlags, wholeNumberFlag } from '../cli/flags';

/** The servers a run can break besides the services: Kafka and Cassandra are killed, PostgreSQL and Redis cut through a proxy. */
export const FAULTS = ['kafka', 'cassandra', 'postgres', 'redis'] as const;
export type Fault = (typeof FAULTS)[number];

/** `./dispatch chaos [--duration 60] [--interval 10] [--concurrency 10] [--victims a,b] [--faults f,g] [--timeout 300]` */
export interface ChaosArgs {
  /** How long new orders are placed, in ms; in-flight orders are then followed to the end. */
  durationMs: number;
  /** Mean time between two kills, in ms (each pause is 50–150 % of it). */
  intervalMs: number;
  concurrency: number;
  /** Services killed with SIGKILL (none: only faults). */
  victims: ServiceName[];
  /** Servers broken (default none). */
  faults: Fault[];
  /** How long one order may take from its first POST to DELIVERED. */
  orderTimeoutMs: number;
}

export class ChaosUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChaosUsageError';
  }
}

export const CHAOS_USAGE = `Usage: ./dispatch chaos [--duration 60] [--interval 10] [--concurrency 10]
                       [--victims ${SERVICE_NAMES.join(',')}|none]
                       [--faults ${FAULTS.join(',')}] [--timeout 300]

Crash-tests the running stack (./dispatch up) under load. For --duration seconds,
--concurrency workers place orders (tok_visa) and follow each to DELIVERED the way a
careful client does: POST retried with the same Idempotency-Key, views polled, the
delivery completed. Meanwhile, every --interval seconds (give or take half), the next
disruption of a shuffled round of them strikes (a round once begun is finished, the load
going on meanwhile, so each strikes at least once): a --victims service is killed with SIGKILL
and restarted a moment later; with --faults, Kafka or Cassandra is killed with SIGKILL and
restarted, or the connections to PostgreSQL or Redis are refused, reset or slowed (the
services reach them through a fault proxy for the run). A few poison messages go to the
raw topics at the start. Afterwards it checks what must hold whatever broke: every
accepted order DELIVERED, charged exactly once (one AUTHORIZED payment, one
payment.authorized in its timeline, no refund), its read model equal to the fold of its
events on the raw topics, the stock of the run's item exactly what was sold, and nothing
in any DLQ but the poison. Exit 0 when all holds, 1 otherwise (every violation listed),
2 on bad arguments. Everything is left running as before.
  --duration     seconds of load, 5-3600 (default 60)
  --interval     mean seconds between disruptions, 1-600 (default 10)
  --concurrency  orders in flight, 1-200 (default 10)
  --victims      comma-separated services to kill, or none (default: all five)
  --faults       comma-separated servers to break (default: none)
  --timeout      seconds one order may take from POST to DELIVERED (default 300)
`;

const LIMITS = {
  duration: { min: 5, max: 3_600 },
  interval: { min: 1, max: 600 },
  concurrency: { min: 1, max: 200 },
  timeout: { min: 10, max: 3_600 },
} as const;

function wholeNumber(name: keyof typeof LIMITS, text: string): number {
  return wholeNumberFlag(name, text, LIMITS[name], (message) => new ChaosUsageError(message));
}

function victimsOf(text: string): ServiceName[] {
  if (text.trim() === 'none') return [];
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SERVICE_NAMES as string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new ChaosUsageError(
      `--victims takes services from ${SERVICE_NAMES.join(', ')}; unknown: ${unknown.map((n) => `"${n}"`).join(', ')}`,
    );
  }
  return [...new Set(names)] as ServiceName[];
}

function faultsOf(text: string): Fault[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(FAULTS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new ChaosUsageError(
      `--faults takes servers from ${FAULTS.join(', ')}; unknown: ${unknown.map((n) => `"${n}"`).join(', ')}`,
    );
  }
  return [...new Set(names)] as Fault[];
}

/** Returns undefined for --help. */
export function parseChaosArgs(argv: string[]): ChaosArgs | undefined {
  const values = readFlags(
    argv,
    ['duration', 'interval', 'concurrency', 'victims', 'faults', 'timeout'],
    (message) => new ChaosUsageError(message),
  );
  if (values === undefined) return undefined;
  const args = {
    durationMs: wholeNumber('duration', values.duration ?? '60') * 1000,
    intervalMs: wholeNumber('interval', values.interval ?? '10') * 1000,
    concurrency: wholeNumber('concurrency', values.concurrency ?? '10'),
    victims: victimsOf(values.victims ?? SERVICE_NAMES.join(',')),
    faults: faultsOf(values.faults ?? ''),
    orderTimeoutMs: wholeNumber('timeout', values.timeout ?? '300') * 1000,
  };
  if (args.victims.length === 0 && args.faults.length === 0) {
    throw new ChaosUsageError('nothing to break: give --victims or --faults (or both)');
  }
  return args;
}
