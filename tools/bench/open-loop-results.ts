import type { IdleArgs, OpenLoopArgs } from './args';
import type { CpuUsage, cpuMsPerOrder } from './cpu';
import type { HoldThresholds } from './holds';
import type { TailSummary } from './stats';

/** What the open-loop benchmark (open-loop.ts) reports: per step, per run, and for the idle stack. */

export interface StepResult {
  offeredPerSecond: number;
  durationS: number;
  /** Orders due in the window. */
  due: number;
  sent: number;
  clientDrops: number;
  accepted: number;
  /** Accepted POSTs per second, from the times of the 201s (schedule.ts achievedRate). */
  acceptedPerSecond: number;
  /**
   * Orders that reached DELIVERY_ASSIGNED per second, from the times the followed orders were seen
   * assigned, scaled from the followed orders to all accepted ones.
   */
  assignedPerSecond: number;
  sampleFraction: number;
  /** Accepted orders followed to DELIVERY_ASSIGNED, and how each ended. */
  followed: number;
  followOutcomes: Record<string, number>;
  /** POST answers by HTTP status (201 included), and POSTs without an answer by error code. */
  answers: Record<string, number>;
  networkErrors: Record<string, number>;
  /** Answers other than 200 (and errors) while opening the followed orders' streams; 404 is normal early. */
  followRetries: Record<string, number>;
  latencyMs: {
    /** Due time → 201 (other answers are counted in `answers`; POSTs without one are `missing`). */
    post: TailSummary;
    /** Due time of the POST → DELIVERY_ASSIGNED on query-api's stream (followed orders). */
    saga: TailSummary;
    /** POST complete → DELIVERED on the stream (--complete only). */
    completeToDelivered?: TailSummary;
    /** Due time → the request left the client: the client's own lag, not the stack's. */
    sendLag: TailSummary;
  };
  readModel: {
    /** Accepted orders at DELIVERY_ASSIGNED or a terminal status when checked. */
    reached: number;
    backlog: number;
    /** From the end of the window until every accepted order was there (or the drain timed out). */
    drainSeconds: number;
    statuses: Record<string, number>;
    /** Up to 20 orders that never showed up, for a look with GET /api/orders/{id}. */
    missing: string[];
  };
  /** Failure statuses among the accepted orders (INVENTORY_REJECTED, PAYMENT_FAILED, DELIVERY_FAILED, …). */
  failedOrders: number;
  cpu?: CpuUsage;
  cpuMsPerOrder?: ReturnType<typeof cpuMsPerOrder>;
  verdict: { holds: boolean; reasons: string[] };
  /** After the measurement: deliveries completed to free the drivers, and those not DELIVERED in time. */
  cleanup: { completed: number; notDelivered: number };
}

export interface Machine {
  cpus: number;
  memoryBytes: number;
  node: string;
}

export interface OpenLoopResult {
  mode: 'open';
  startedAt: string;
  settings: OpenLoopArgs;
  machine: Machine;
  thresholds: HoldThresholds & { drainTimeoutMs: number };
  steps: StepResult[];
  highestHoldingRate: number | null;
  /** Why the run fails its check (exit 1): accepted orders missing from the read model, failed orders. */
  failures: string[];
}

export interface IdleResult {
  mode: 'idle';
  startedAt: string;
  settings: IdleArgs;
  machine: Machine;
  cpu: CpuUsage;
}
