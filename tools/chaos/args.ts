import { SERVICE_NAMES, type ServiceName } from '@dispatch/testkit';
import { readFlags, wholeNumberFlag } from '../cli/flags';

/** `./dispatch chaos [--duration 60] [--interval 10] [--concurrency 10] [--victims a,b] [--timeout 300]` */
export interface ChaosArgs {
  /** How long new orders are placed, in ms; in-flight orders are then followed to the end. */
  durationMs: number;
  /** Mean time between two kills, in ms (each pause is 50–150 % of it). */
  intervalMs: number;
  concurrency: number;
  victims: ServiceName[];
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
                       [--victims ${SERVICE_NAMES.join(',')}] [--timeout 300]

Crash-tests the running stack (./dispatch up) under load. For --duration seconds,
--concurrency workers place orders (tok_visa) and follow each to DELIVERED the way a
careful client does: POST retried with the same Idempotency-Key, views polled, the
delivery completed. Meanwhile, every --interval seconds (give or take half), one of the
--victims is killed with SIGKILL and restarted a moment later. Afterwards it checks what
must hold whatever crashed: every accepted order DELIVERED, charged exactly once
(one AUTHORIZED payment, one payment.authorized in its timeline, no refund), and the
stock of the run's item exactly what was sold. Exit 0 when all holds, 1 otherwise
(every violation listed), 2 on bad arguments. The victims are left running.
  --duration     seconds of load, 5-3600 (default 60)
  --interval     mean seconds between kills, 1-600 (default 10)
  --concurrency  orders in flight, 1-200 (default 10)
  --victims      comma-separated services to kill (default: all five)
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
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SERVICE_NAMES as string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new ChaosUsageError(
      `--victims takes services from ${SERVICE_NAMES.join(', ')}; unknown: ${unknown.map((n) => `"${n}"`).join(', ')}`,
    );
  }
  return [...new Set(names)] as ServiceName[];
}

/** Returns undefined for --help. */
export function parseChaosArgs(argv: string[]): ChaosArgs | undefined {
  const values = readFlags(
    argv,
    ['duration', 'interval', 'concurrency', 'victims', 'timeout'],
    (message) => new ChaosUsageError(message),
  );
  if (values === undefined) return undefined;
  return {
    durationMs: wholeNumber('duration', values.duration ?? '60') * 1000,
    intervalMs: wholeNumber('interval', values.interval ?? '10') * 1000,
    concurrency: wholeNumber('concurrency', values.concurrency ?? '10'),
    victims: victimsOf(values.victims ?? SERVICE_NAMES.join(',')),
    orderTimeoutMs: wholeNumber('timeout', values.timeout ?? '300') * 1000,
  };
}
