import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal, type OrderStatus } from '@dispatch/contracts';
import {
  admin,
  createItem,
  type Driver,
  FAR_FROM_DEPOT_ADDRESS,
  mapConcurrently,
  orderBody,
  putDriver,
  requireRunningServices,
  SERVICE_NAMES,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';
import type { IdleArgs, OpenLoopArgs } from './args';
import { CpuProbe, type CpuSnapshot, cpuMsPerOrder, cpuUsage } from './cpu';
import { HOLD_THRESHOLDS, highestHoldingRate, holdVerdict, unexpectedServerErrors } from './holds';
import { KeepAliveClient, networkErrorCode } from './http-client';
import {
  type Context,
  checkReadModel,
  completeAssigned,
  type FollowOutcome,
  follow,
  increment,
  POST_TIMEOUT_MS,
  provideDrivers,
} from './open-loop-orders';
import type { IdleResult, Machine, OpenLoopResult, StepResult } from './open-loop-results';
import {
  achievedRate,
  defaultSampleFraction,
  dueCount,
  dueOffsetMs,
  isSampled,
  ordersInStep,
} from './schedule';
import { tailSummary } from './stats';

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
/** Drivers beyond the step's orders, in case others' tests take some of the free ones. */
const SPARE_DRIVERS = 1.05;
const TOKEN_TTL = '12h';

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

export async function runOpenLoop(
  args: OpenLoopArgs,
  log: (line: string) => void = () => {},
): Promise<OpenLoopResult> {
  await requireRunningServices(SERVICE_NAMES);
  const startedAt = new Date().toISOString();
  const probe = requireProc();
  if (!probe) log('no /proc on this machine: no CPU figures');
  const firstRate = args.rates[0]!;
  const warmupOrders = args.warmupS ? ordersInStep(firstRate, args.warmupS) : 0;
  const totalOrders =
    warmupOrders + args.rates.reduce((sum, rate) => sum + ordersInStep(rate, args.durationS), 0);
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
    if (args.warmupS) {
      for (const driver of await provideDrivers(Math.ceil(warmupOrders * SPARE_DRIVERS))) {
        drivers.set(driver.driverId, driver);
      }
      log(`warm-up (not reported): ${firstRate} orders/s for ${args.warmupS} s`);
      const warmup = await runStep(ctx, firstRate, args.warmupS);
      log(
        `warm-up done: accepted ${warmup.acceptedPerSecond.toFixed(1)}/s, assigned ${warmup.assignedPerSecond.toFixed(1)}/s`,
      );
    }
    for (const rate of args.rates) {
      for (const driver of await provideDrivers(
        Math.ceil(ordersInStep(rate, args.durationS) * SPARE_DRIVERS),
      )) {
        drivers.set(driver.driverId, driver);
      }
      const step = await runStep(ctx, rate, args.durationS);
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

async function runStep(ctx: Context, rate: number, durationS: number): Promise<StepResult> {
  const { args, client, customers, items } = ctx;
  const total = ordersInStep(rate, durationS);
  const windowMs = durationS * 1000;
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
    `${rate} orders/s for ${durationS} s: ${total} orders, ` +
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
  const serverErrors = unexpectedServerErrors(answers);
  const networkErrorCount = Object.values(networkErrors).reduce((sum, n) => sum + n, 0);
  const cpu = cpuStart && cpuEnd && ctx.probe ? cpuUsage(cpuStart, cpuEnd, ctx.probe.clockTicks) : undefined;

  return {
    offeredPerSecond: rate,
    durationS,
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
