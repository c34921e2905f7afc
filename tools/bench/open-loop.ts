import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal, type OrderStatus } from '@dispatch/contracts';
import {
  admin,
  type CatalogueItem,
  createItem,
  type Driver,
  FAR_FROM_DEPOT_ADDRESS,
  listDrivers,
  mapConcurrently,
  metricSum,
  openSse,
  orderBody,
  putDriver,
  requireRunningServices,
  SERVICE_NAMES,
  type SseClient,
  scrape,
  serviceUrl,
  tokenFor,
  uniqueId,
} from '@dispatch/testkit';
import type { IdleArgs, OpenLoopArgs } from './args';
import { CpuProbe, type CpuSnapshot, type CpuUsage, cpuMsPerOrder, cpuUsage } from './cpu';
import { HOLD_THRESHOLDS, type HoldThresholds, highestHoldingRate, holdVerdict } from './holds';
import { KeepAliveClient, networkErrorCode } from './http-client';
import {
  achievedRate,
  defaultSampleFraction,
  dueCount,
  dueOffsetMs,
  isSampled,
  ordersInStep,
} from './schedule';
import { type TailSummary, tailSummary } from './stats';

/**
 * The open-loop benchmark: a constant arrival rate of orders, each sent when it is due whatever the
 * earlier ones are doing, so a slow stack cannot slow the load down and hide its own queueing
 * (coordinated omission). Every latency counts from the order's due time. A sample of the orders is
 * followed on query-api's live stream to DELIVERY_ASSIGNED; afterwards every accepted order must
 * show up in the read model. CPU time per process comes from /proc (cpu.ts).
 */

/** Requests in flight at most; an order due beyond that is a client-side drop. */
export const MAX_OUTSTANDING = 2_000;
/** Keep-alive sockets per origin; more requests wait for one (their latency still counts from due). */
const MAX_SOCKETS = 256;
const POST_TIMEOUT_MS = 30_000;
/** The read-model check's and the clean-up's requests in flight. */
const CHECK_CONCURRENCY = 8;
const CHECK_PAUSE_MS = 500;
/** How long opening a followed order's stream may take before the attempt counts as TIMEOUT. */
const OPEN_TIMEOUT_MS = 10_000;
/** Drivers beyond the step's orders, in case others' tests take some of the free ones. */
const SPARE_DRIVERS = 1.05;
const TOKEN_TTL = '12h';

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
  cpuMsPerOrder?: { perProcess: Record<string, number | null>; total: number | null };
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

const machine = (): Machine => ({ cpus: cpus().length, memoryBytes: totalmem(), node: process.version });

function requireProc(): CpuProbe | undefined {
  return CpuProbe.available() ? new CpuProbe() : undefined;
}

export async function runIdle(args: IdleArgs, log: (line: string) => void = () => {}): Promise<IdleResult> {
  await requireRunningServices(SERVICE_NAMES);
  const probe = requireProc();
  if (!probe) throw new Error('--idle reads /proc, which this machine does not have (Linux only)');
  const startedAt = new Date().toISOString();
  log(`measuring the idle stack for ${args.durationS} s`);
  const start = probe.snapshot();
  await sleep(args.durationS * 1000);
  const end = probe.snapshot();
  return {
    mode: 'idle',
    startedAt,
    settings: args,
    machine: machine(),
    cpu: cpuUsage(start, end, probe.clockTicks),
  };
}

interface Customer {
  customerId: string;
  token: string;
}

interface Context {
  args: OpenLoopArgs;
  client: KeepAliveClient;
  probe: CpuProbe | undefined;
  customers: Customer[];
  items: CatalogueItem[];
  adminToken: string;
  log: (line: string) => void;
}

export async function runOpenLoop(
  args: OpenLoopArgs,
  log: (line: string) => void = () => {},
): Promise<OpenLoopResult> {
  await requireRunningServices(SERVICE_NAMES);
  const startedAt = new Date().toISOString();
  const probe = requireProc();
  if (!probe) log('no /proc on this machine: no CPU figures');
  const totalOrders = args.rates.reduce((sum, rate) => sum + ordersInStep(rate, args.durationS), 0);
  const stock = Math.ceil(totalOrders / args.items) + 10;
  const items = await mapConcurrently(
    Array.from({ length: args.items }, (_, i) => i),
    4,
    () => createItem({ available: stock, idPrefix: 'bench-item' }),
  );
  const customers = await mapConcurrently(
    Array.from({ length: args.customers }, (_, i) => `bench-customer-${i}`),
    20,
    async (customerId) => ({ customerId, token: await tokenFor(customerId, 'customer', { ttl: TOKEN_TTL }) }),
  );
  log(`${items.length} catalogue items with ${stock} each in stock; ${customers.length} customers`);
  const ctx: Context = {
    args,
    client: new KeepAliveClient(MAX_SOCKETS),
    probe,
    customers,
    items,
    adminToken: await admin(),
    log,
  };

  const steps: StepResult[] = [];
  const drivers = new Map<string, Driver>();
  try {
    for (const rate of args.rates) {
      for (const driver of await provideDrivers(
        Math.ceil(ordersInStep(rate, args.durationS) * SPARE_DRIVERS),
      )) {
        drivers.set(driver.driverId, driver);
      }
      const step = await runStep(ctx, rate);
      steps.push(step);
      log(
        `${rate}/s: accepted ${step.acceptedPerSecond.toFixed(1)}/s, assigned ${step.assignedPerSecond.toFixed(1)}/s, ` +
          `backlog ${step.readModel.backlog}: ${step.verdict.holds ? 'holds' : `does not hold (${step.verdict.reasons.join('; ')})`}`,
      );
    }
  } finally {
    // Leave the driver pool as it was: the drivers the benchmark put on duty go off duty again.
    await mapConcurrently([...drivers.values()], 10, (driver) =>
      putDriver(driver.driverId, driver.name, 'OFF_DUTY'),
    ).catch((err: Error) => log(`could not take every bench driver off duty: ${err.message}`));
    ctx.client.close();
  }

  const failures: string[] = [];
  for (const step of steps) {
    if (step.readModel.backlog > 0) {
      failures.push(
        `${step.offeredPerSecond}/s: ${step.readModel.backlog} accepted orders not in the read model ` +
          `${args.drainTimeoutMs / 1000} s after the load (e.g. ${step.readModel.missing.slice(0, 3).join(', ')})`,
      );
    }
    if (step.failedOrders > 0) {
      failures.push(`${step.offeredPerSecond}/s: ${step.failedOrders} orders ended in a failure status`);
    }
  }
  return {
    mode: 'open',
    startedAt,
    settings: args,
    machine: machine(),
    thresholds: { ...HOLD_THRESHOLDS, drainTimeoutMs: args.drainTimeoutMs },
    steps,
    highestHoldingRate: highestHoldingRate(steps.map((s) => ({ ...s, holds: s.verdict.holds }))) ?? null,
    failures,
  };
}

interface FollowOutcome {
  orderId: string;
  /** The last status seen, undefined when the order never showed up. */
  status: OrderStatus | undefined;
  /** Due time → DELIVERY_ASSIGNED seen, and when that was (performance.now()). */
  sagaMs?: number;
  assignedAt?: number;
  completeMs?: number;
}

async function runStep(ctx: Context, rate: number): Promise<StepResult> {
  const { args, client, customers, items } = ctx;
  const total = ordersInStep(rate, args.durationS);
  const windowMs = args.durationS * 1000;
  const sampleFraction = args.sampleFraction ?? defaultSampleFraction(rate);
  const ordersUrl = `${serviceUrl('order-service')}/api/orders`;

  const postMs: number[] = [];
  const sendLagMs: number[] = [];
  const answers: Record<string, number> = {};
  const networkErrors: Record<string, number> = {};
  const followRetries: Record<string, number> = {};
  const acceptedIds: string[] = [];
  const posts: Promise<void>[] = [];
  const followers: Promise<FollowOutcome>[] = [];
  let outstanding = 0;
  let drops = 0;
  const acceptOffsetsMs: number[] = [];

  ctx.log(
    `${rate} orders/s for ${args.durationS} s: ${total} orders, ` +
      `${Math.round(sampleFraction * 100)} % followed${args.complete ? ' and completed' : ''}`,
  );
  const cpuStart: CpuSnapshot | undefined = ctx.probe?.snapshot();
  const start = performance.now();
  const windowEnd = start + windowMs;
  const followDeadline = windowEnd + args.drainTimeoutMs;

  const fire = (index: number) => {
    const dueAt = start + dueOffsetMs(index, rate);
    if (outstanding >= MAX_OUTSTANDING) {
      drops += 1;
      return;
    }
    outstanding += 1;
    sendLagMs.push(performance.now() - dueAt);
    const customer = customers[index % customers.length]!;
    const item = items[index % items.length]!;
    const body = JSON.stringify(
      // Far from the depot: drivers stay busy until the run completes them, as without the simulated
      // fleet, so the results compare with earlier runs.
      orderBody(
        customer.customerId,
        [{ itemId: item.itemId, quantity: 1, unitPrice: item.unitPrice }],
        'EUR',
        FAR_FROM_DEPOT_ADDRESS,
      ),
    );
    const post = client
      .request('POST', ordersUrl, { token: customer.token, body, timeoutMs: POST_TIMEOUT_MS })
      .then(
        (answer) => {
          const now = performance.now();
          increment(answers, String(answer.status));
          if (answer.status !== 201) return;
          postMs.push(now - dueAt);
          acceptOffsetsMs.push(now - start);
          const { orderId } = JSON.parse(answer.text) as { orderId: string };
          acceptedIds.push(orderId);
          if (isSampled(index, sampleFraction)) {
            followers.push(follow(ctx, orderId, customer.token, dueAt, followDeadline, followRetries));
          }
        },
        (err: unknown) => increment(networkErrors, networkErrorCode(err)),
      )
      .finally(() => {
        outstanding -= 1;
      });
    posts.push(post);
  };

  let next = 0;
  while (next < total) {
    const due = dueCount(performance.now() - start, rate, total);
    while (next < due) {
      fire(next);
      next += 1;
    }
    if (next >= total) break;
    await sleep(Math.max(0, start + dueOffsetMs(next, rate) - performance.now()));
  }
  await sleep(Math.max(0, windowEnd - performance.now()));
  const cpuEnd = ctx.probe?.snapshot();
  ctx.log(
    `load done: ${acceptedIds.length} accepted so far, ${outstanding} POSTs outstanding, ${drops} dropped`,
  );

  await Promise.all(posts);
  const outcomes = await Promise.all(followers);
  const statuses = new Map<string, OrderStatus | undefined>(acceptedIds.map((id) => [id, undefined]));
  for (const outcome of outcomes) statuses.set(outcome.orderId, outcome.status);

  // Every accepted order must show up in the read model, at DELIVERY_ASSIGNED or a terminal status.
  const inReadModel = (status: OrderStatus | undefined) =>
    status !== undefined && (status === 'DELIVERY_ASSIGNED' || isTerminal(status));
  await checkReadModel(ctx, statuses, inReadModel, followDeadline);
  const drainSeconds = (performance.now() - windowEnd) / 1000;
  const missing = [...statuses].filter(([, status]) => !inReadModel(status)).map(([id]) => id);
  ctx.log(
    `read model: ${statuses.size - missing.length}/${statuses.size} accepted orders there after ${drainSeconds.toFixed(1)} s`,
  );

  // As the read model showed them, before the clean-up completes the assigned ones.
  const finalStatuses: Record<string, number> = {};
  for (const status of statuses.values()) increment(finalStatuses, status ?? 'not found');
  const failedOrders = [...statuses.values()].filter(
    (s) => s !== undefined && isTerminal(s) && s !== 'DELIVERED',
  ).length;

  const cleanup = await completeAssigned(ctx, statuses);

  const sagaMs = outcomes.flatMap((o) => (o.sagaMs === undefined ? [] : [o.sagaMs]));
  const completeMs = outcomes.flatMap((o) => (o.completeMs === undefined ? [] : [o.completeMs]));
  const followOutcomes: Record<string, number> = {};
  for (const o of outcomes) {
    const label =
      o.sagaMs !== undefined
        ? 'DELIVERY_ASSIGNED'
        : o.status === undefined || !inReadModel(o.status)
          ? `not assigned in time (last seen ${o.status ?? 'nothing'})`
          : o.status;
    increment(followOutcomes, label);
  }
  const accepted = acceptedIds.length;
  const assignedOffsetsMs = outcomes.flatMap((o) =>
    o.assignedAt === undefined ? [] : [o.assignedAt - start],
  );
  const acceptedPerSecond = achievedRate(acceptOffsetsMs, { windowMs, rate });
  const assignedPerSecond = achievedRate(
    assignedOffsetsMs,
    { windowMs, rate },
    outcomes.length > 0 ? accepted / outcomes.length : 0,
  );
  const saga = tailSummary(sagaMs, outcomes.length - sagaMs.length);
  const serverErrors = Object.entries(answers)
    .filter(([status]) => status.startsWith('5'))
    .reduce((sum, [, n]) => sum + n, 0);
  const networkErrorCount = Object.values(networkErrors).reduce((sum, n) => sum + n, 0);
  const cpu = cpuStart && cpuEnd && ctx.probe ? cpuUsage(cpuStart, cpuEnd, ctx.probe.clockTicks) : undefined;

  return {
    offeredPerSecond: rate,
    durationS: args.durationS,
    due: total,
    sent: total - drops,
    clientDrops: drops,
    accepted,
    acceptedPerSecond,
    assignedPerSecond,
    sampleFraction,
    followed: outcomes.length,
    followOutcomes,
    answers,
    networkErrors,
    followRetries,
    latencyMs: {
      post: tailSummary(postMs, networkErrorCount),
      saga,
      ...(args.complete
        ? { completeToDelivered: tailSummary(completeMs, sagaMs.length - completeMs.length) }
        : {}),
      sendLag: tailSummary(sendLagMs),
    },
    readModel: {
      reached: statuses.size - missing.length,
      backlog: missing.length,
      drainSeconds,
      statuses: finalStatuses,
      missing: missing.slice(0, 20),
    },
    failedOrders,
    ...(cpu ? { cpu, cpuMsPerOrder: cpuMsPerOrder(cpu, accepted) } : {}),
    verdict: holdVerdict({
      offeredPerSecond: rate,
      acceptedPerSecond,
      assignedPerSecond,
      serverErrors,
      networkErrors: networkErrorCount,
      clientDrops: drops,
      backlog: missing.length,
      drainTimeoutMs: args.drainTimeoutMs,
      sagaP99Ms: saga.p99,
      followed: outcomes.length,
    }),
    cleanup,
  };
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const assignedOrOver = (status: OrderStatus) => status === 'DELIVERY_ASSIGNED' || isTerminal(status);

/**
 * Follows one order on query-api's live stream until DELIVERY_ASSIGNED (or another end) and, with
 * --complete, completes its delivery and follows it to DELIVERED.
 */
async function follow(
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
async function checkReadModel(
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
async function completeAssigned(
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
async function provideDrivers(count: number): Promise<Driver[]> {
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
