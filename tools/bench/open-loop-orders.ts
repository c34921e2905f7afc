import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal, type OrderStatus } from '@dispatch/contracts';
import {
  type CatalogueItem,
  type Driver,
  listDrivers,
  mapConcurrently,
  metricSum,
  openSse,
  putDriver,
  type SseClient,
  scrape,
  serviceUrl,
  uniqueId,
} from '@dispatch/testkit';
import type { OpenLoopArgs } from './args';
import type { CpuProbe } from './cpu';
import { type KeepAliveClient, networkErrorCode } from './http-client';

/**
 * The open loop's work on its orders besides posting them (open-loop.ts): following a sample on
 * query-api's live stream, checking the read model, completing deliveries, providing drivers.
 */

export const POST_TIMEOUT_MS = 30_000;
/** The read-model check's and the clean-up's requests in flight. */
const CHECK_CONCURRENCY = 8;
const CHECK_PAUSE_MS = 500;
/** How long opening a followed order's stream may take before the attempt counts as TIMEOUT. */
const OPEN_TIMEOUT_MS = 10_000;

export interface Customer {
  customerId: string;
  token: string;
}

export interface Context {
  args: OpenLoopArgs;
  client: KeepAliveClient;
  probe: CpuProbe | undefined;
  customers: Customer[];
  items: CatalogueItem[];
  adminToken: string;
  log: (line: string) => void;
}

export interface FollowOutcome {
  orderId: string;
  /** The last status seen, undefined when the order never showed up. */
  status: OrderStatus | undefined;
  /** Due time → DELIVERY_ASSIGNED seen, and when that was (performance.now()). */
  sagaMs?: number;
  assignedAt?: number;
  completeMs?: number;
}

export function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const assignedOrOver = (status: OrderStatus) => status === 'DELIVERY_ASSIGNED' || isTerminal(status);

/**
 * Follows one order on query-api's live stream until DELIVERY_ASSIGNED (or another end) and, with
 * --complete, completes its delivery and follows it to DELIVERED.
 */
export async function follow(
  ctx: Context,
  orderId: string,
  token: string,
  dueAt: number,
  deadline: number,
  retries: Record<string, number>,
): Promise<FollowOutcome> {
  const stream = new OrderStream(
    `${serviceUrl('query-api')}/api/orders/${orderId}/events`,
    token,
    dueAt,
    retries,
  );
  try {
    const assigned = await stream.until(assignedOrOver, deadline);
    if (assigned.status !== 'DELIVERY_ASSIGNED' || assigned.at === undefined) {
      return { orderId, status: assigned.status };
    }
    const outcome: FollowOutcome = {
      orderId,
      status: assigned.status,
      sagaMs: assigned.at - dueAt,
      assignedAt: assigned.at,
    };
    if (!ctx.args.complete) return outcome;
    const completeStart = performance.now();
    const answer = await ctx.client
      .request('POST', completeUrl(orderId), { token: ctx.adminToken, timeoutMs: POST_TIMEOUT_MS })
      .catch((err: unknown) => ({ status: 0, text: networkErrorCode(err) }));
    if (answer.status !== 200) {
      increment(retries, `complete answered ${answer.status || answer.text}`);
      return outcome;
    }
    const delivered = await stream.until(isTerminal, deadline);
    if (delivered.status !== undefined) outcome.status = delivered.status;
    if (delivered.status === 'DELIVERED' && delivered.at !== undefined) {
      outcome.completeMs = delivered.at - completeStart;
    }
    return outcome;
  } finally {
    stream.close();
  }
}

function completeUrl(orderId: string): string {
  return `${serviceUrl('delivery-service')}/api/deliveries/${orderId}/complete`;
}

/**
 * One order's live stream, reopened whenever it is not there yet (404 until the read model has seen
 * order.created; 503 when query-api has too many streams) or is cut (query-api restarted). The pause
 * between attempts grows with the order's age (a tenth of it, 25 ms to 5 s), so an early answer is
 * seen early and a stack that is far behind is not asked many times; once open, the stream pushes
 * each change, so a latency is at most a tenth too long, and only when the whole saga ran between
 * two attempts.
 */
class OrderStream {
  private stream: SseClient | undefined;
  private last: OrderStatus | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly dueAt: number,
    private readonly retries: Record<string, number>,
  ) {}

  /** The first status `wanted` accepts and when it was seen, or the last status seen at the deadline. */
  async until(
    wanted: (status: OrderStatus) => boolean,
    deadline: number,
  ): Promise<{ status: OrderStatus | undefined; at?: number }> {
    while (performance.now() < deadline) {
      if (!this.stream) {
        await this.open();
        continue;
      }
      let frame: { event: string; data: string };
      try {
        frame = await this.stream.next(Math.max(1, deadline - performance.now()));
      } catch {
        // Ended (after a terminal view, or query-api went away) or timed out: reopen while there is time.
        this.close();
        if (this.last !== undefined && isTerminal(this.last)) return { status: this.last };
        continue;
      }
      if (frame.event !== 'order') continue;
      this.last = (JSON.parse(frame.data) as { status: OrderStatus }).status;
      if (wanted(this.last)) return { status: this.last, at: performance.now() };
    }
    return { status: this.last };
  }

  private async open(): Promise<void> {
    try {
      const opening = openSse(this.url, this.token);
      const stream = await Promise.race([opening, sleep(OPEN_TIMEOUT_MS, undefined)]);
      if (stream === undefined) {
        // No answer in time: give up on this attempt (closing the stream should it still come).
        opening.then((late) => late.close()).catch(() => {});
        throw Object.assign(new Error('no answer'), { code: 'TIMEOUT' });
      }
      if (stream.status === 200) {
        this.stream = stream;
        return;
      }
      stream.close();
      increment(this.retries, String(stream.status));
    } catch (err) {
      increment(this.retries, networkErrorCode((err as { cause?: unknown }).cause ?? err));
    }
    const age = performance.now() - this.dueAt;
    await sleep(Math.min(5_000, Math.max(25, age / 10)));
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}

/**
 * GETs each order whose status does not satisfy `done` yet (CHECK_CONCURRENCY at a time), again and
 * again with a pause, until all do or the deadline passed; always at least one pass. Updates `statuses`.
 */
export async function checkReadModel(
  ctx: Context,
  statuses: Map<string, OrderStatus | undefined>,
  done: (status: OrderStatus | undefined) => boolean,
  deadline: number,
): Promise<void> {
  let pending = [...statuses].filter(([, status]) => !done(status)).map(([id]) => id);
  while (pending.length > 0) {
    await mapConcurrently(pending, CHECK_CONCURRENCY, async (orderId) => {
      const answer = await ctx.client
        .request('GET', `${serviceUrl('query-api')}/api/orders/${orderId}`, {
          token: ctx.adminToken,
          timeoutMs: POST_TIMEOUT_MS,
        })
        .catch(() => undefined);
      if (answer?.status === 200)
        statuses.set(orderId, (JSON.parse(answer.text) as { status: OrderStatus }).status);
    });
    pending = pending.filter((id) => !done(statuses.get(id)));
    if (pending.length === 0 || performance.now() >= deadline) return;
    await sleep(CHECK_PAUSE_MS);
  }
}

/**
 * After the measurement: completes every delivery still assigned, so its driver is free for the next
 * step and the delivery-service does not keep refreshing the ETAs of thousands of open deliveries,
 * then waits (up to the drain timeout) until the read model shows them DELIVERED: the next step then
 * starts on a stack without a backlog.
 */
export async function completeAssigned(
  ctx: Context,
  statuses: Map<string, OrderStatus | undefined>,
): Promise<{ completed: number; notDelivered: number }> {
  const assigned = [...statuses].filter(([, status]) => status === 'DELIVERY_ASSIGNED').map(([id]) => id);
  if (assigned.length === 0) return { completed: 0, notDelivered: 0 };
  ctx.log(`clean-up: completing ${assigned.length} deliveries`);
  const completed = new Map<string, OrderStatus | undefined>();
  await mapConcurrently(assigned, CHECK_CONCURRENCY, async (orderId) => {
    const answer = await ctx.client
      .request('POST', completeUrl(orderId), { token: ctx.adminToken, timeoutMs: POST_TIMEOUT_MS })
      .catch(() => undefined);
    // 409: no longer ASSIGNED/EN_ROUTE (completed meanwhile): look at it all the same.
    if (answer?.status === 200 || answer?.status === 409) completed.set(orderId, undefined);
  });
  await checkReadModel(
    ctx,
    completed,
    (s) => s !== undefined && isTerminal(s),
    performance.now() + ctx.args.drainTimeoutMs,
  );
  for (const [id, status] of completed) statuses.set(id, status ?? statuses.get(id));
  const notDelivered = assigned.length - [...completed.values()].filter((s) => s === 'DELIVERED').length;
  if (notDelivered > 0) ctx.log(`clean-up: ${notDelivered} deliveries not DELIVERED in time`);
  return { completed: completed.size, notDelivered };
}

/**
 * Makes sure `count` drivers are free (plus one per paid order already waiting for one): bench
 * drivers an earlier run took off duty are put back on duty first, new ones are added only beyond
 * them, so repeated runs do not pile up drivers. Returns the drivers it put on duty.
 */
export async function provideDrivers(count: number): Promise<Driver[]> {
  const all = await listDrivers();
  const free = all.filter((d) => d.assignable).length;
  const waiting = metricSum(await scrape(serviceUrl('delivery-service')), 'delivery_pending', {
    state: 'PENDING',
  });
  const missing = Math.max(0, count + waiting - free);
  if (missing === 0) return [];
  const reusable = all
    .filter(
      (d) => d.driverId.startsWith('bench-driver-') && d.status === 'OFF_DUTY' && d.activeDeliveryId === null,
    )
    .slice(0, missing)
    .map((d) => d.driverId);
  const fresh = Array.from({ length: missing - reusable.length }, () => uniqueId('bench-driver'));
  return mapConcurrently([...reusable, ...fresh], 10, (driverId) =>
    putDriver(driverId, `Driver ${driverId}`, 'AVAILABLE'),
  );
}
