/** When an open-loop step "holds" its offered rate: the thresholds and the decision, pure. */

export interface HoldThresholds {
  /** Accepted POSTs/s and DELIVERY_ASSIGNED orders/s each at least this fraction of the offered rate. */
  minAchievedFraction: number;
  /** Scheduled POST → DELIVERY_ASSIGNED in query-api, p99 of the followed orders, at most this. */
  maxSagaP99Ms: number;
}

export const HOLD_THRESHOLDS: HoldThresholds = { minAchievedFraction: 0.95, maxSagaP99Ms: 2_000 };

export interface HoldInput {
  offeredPerSecond: number;
  acceptedPerSecond: number;
  assignedPerSecond: number;
  /**
   * POSTs answered 5xx other than 503. A 503 is load shed on purpose (with Retry-After): it counts
   * against the accepted rate, not as an error.
   */
  serverErrors: number;
  /** POSTs that got no answer (refused, reset, timed out). */
  networkErrors: number;
  /** Orders not sent because too many were outstanding. */
  clientDrops: number;
  /** Accepted orders not in the read model (DELIVERY_ASSIGNED or terminal) when the drain timed out. */
  backlog: number;
  drainTimeoutMs: number;
  /** null: the p99 falls among followed orders that never reached DELIVERY_ASSIGNED. */
  sagaP99Ms: number | null;
  /** Followed orders, arrived or not. */
  followed: number;
}

export function describeThresholds(t: HoldThresholds = HOLD_THRESHOLDS, drainTimeoutMs?: number): string {
  const drain = drainTimeoutMs === undefined ? '' : ` within the ${drainTimeoutMs / 1000} s drain`;
  return (
    `accepted/s and DELIVERY_ASSIGNED/s ≥ ${Math.round(t.minAchievedFraction * 100)} % of offered; ` +
    `no 5xx but shedding 503s, no network errors or client drops; every accepted order in the read model${drain}; ` +
    `saga p99 ≤ ${t.maxSagaP99Ms / 1000} s`
  );
}

/** Whether the step holds, and every reason it does not. */
export function holdVerdict(
  input: HoldInput,
  t: HoldThresholds = HOLD_THRESHOLDS,
): { holds: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const floor = input.offeredPerSecond * t.minAchievedFraction;
  const rate = (n: number) => n.toFixed(1);
  if (input.acceptedPerSecond < floor) {
    reasons.push(`accepted ${rate(input.acceptedPerSecond)}/s < ${rate(floor)}/s`);
  }
  if (input.assignedPerSecond < floor) {
    reasons.push(`DELIVERY_ASSIGNED ${rate(input.assignedPerSecond)}/s < ${rate(floor)}/s`);
  }
  if (input.serverErrors > 0) reasons.push(`${input.serverErrors} POSTs answered 5xx (not 503)`);
  if (input.networkErrors > 0) reasons.push(`${input.networkErrors} POSTs got no answer`);
  if (input.clientDrops > 0) reasons.push(`${input.clientDrops} orders dropped by the client`);
  if (input.backlog > 0) {
    reasons.push(
      `${input.backlog} accepted orders not in the read model after ${input.drainTimeoutMs / 1000} s`,
    );
  }
  if (input.followed === 0) reasons.push('no order was followed');
  else if (input.sagaP99Ms === null)
    reasons.push('saga p99 beyond the wait (followed orders never assigned)');
  else if (input.sagaP99Ms > t.maxSagaP99Ms) {
    reasons.push(`saga p99 ${(input.sagaP99Ms / 1000).toFixed(2)} s > ${t.maxSagaP99Ms / 1000} s`);
  }
  return { holds: reasons.length === 0, reasons };
}

/** The highest offered rate among the steps that held, or undefined when none did. */
export function highestHoldingRate(
  steps: { offeredPerSecond: number; holds: boolean }[],
): number | undefined {
  const held = steps.filter((s) => s.holds).map((s) => s.offeredPerSecond);
  return held.length > 0 ? Math.max(...held) : undefined;
}

/**
 * POST answers (count by HTTP status) that are server errors: every 5xx but 503, which is the order
 * API shedding load with Retry-After (it counts against the accepted rate instead).
 */
export function unexpectedServerErrors(answers: Readonly<Record<string, number>>): number {
  return Object.entries(answers)
    .filter(([status]) => status.startsWith('5') && status !== '503')
    .reduce((sum, [, n]) => sum + n, 0);
}
