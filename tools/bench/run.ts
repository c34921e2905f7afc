import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isTerminal, type OrderStatus } from '@dispatch/contracts';
import {
  completeDelivery,
  createItem,
  type Driver,
  ensureFreeDrivers,
  eventually,
  FAR_FROM_DEPOT_ADDRESS,
  mapConcurrently,
  metricSum,
  openSse,
  orderBody,
  postOrder,
  putDriver,
  requireRunningServices,
  SERVICE_NAMES,
  type SseClient,
  scrape,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';
import type { BenchArgs } from './args';
import { type LatencySummary, type MemorySummary, MemoryTracker, summarize } from './stats';

/**
 * The load benchmark: closed-loop workers drive whole orders through the running stack over its
 * public HTTP APIs, the way a shop front and a driver app would, and time each step as a client
 * sees it.
 */

export interface BenchFailure {
  orderId?: string;
  reason: string;
}

export interface BenchResult {
  startedAt: string;
  settings: Pick<BenchArgs, 'orders' | 'concurrency' | 'orderTimeoutMs'>;
  machine: { cpus: number; memoryBytes: number; node: string };
  wallSeconds: number;
  /** DELIVERED orders per second of wall time. */
  ordersPerSecond: number;
  delivered: number;
  failures: BenchFailure[];
  latencyMs: {
    /** POST /api/orders until its 201. */
    accept: LatencySummary | undefined;
    /** POST /api/orders until query-api shows DELIVERY_ASSIGNED: the automated saga end to end. */
    placedToAssigned: LatencySummary | undefined;
    /** POST /api/deliveries/{id}/complete until query-api shows DELIVERED. */
    completeToDelivered: LatencySummary | undefined;
  };
  memory: MemorySummary[];
}

const MEMORY_SAMPLE_MS = 1_000;
const CUSTOMERS = 50;

class OrderFailed extends Error {}

export async function runBench(
  args: BenchArgs,
  log: (line: string) => void = () => {},
): Promise<BenchResult> {
  await requireRunningServices(SERVICE_NAMES);
  const item = await createItem({ available: args.orders, idPrefix: 'bench-item' });
  const drivers = await ensureFreeDrivers(args.concurrency, 'bench-driver');
  log(`catalogue item ${item.itemId} with ${args.orders} in stock; ${drivers.length} drivers added`);

  const memory = new MemoryTracker();
  await sampleMemory(memory);
  const sampler = setInterval(() => void sampleMemory(memory).catch(() => {}), MEMORY_SAMPLE_MS);

  const accept: number[] = [];
  const placedToAssigned: number[] = [];
  const completeToDelivered: number[] = [];
  const failures: BenchFailure[] = [];
  const startedAt = new Date();
  const started = performance.now();
  let done = 0;
  try {
    await mapConcurrently(
      Array.from({ length: args.orders }, (_, i) => i),
      args.concurrency,
      async (i) => {
        const customerId = `bench-customer-${i % CUSTOMERS}`;
        let orderId: string | undefined;
        try {
          const timing = await driveOrder(
            customerId,
            item.itemId,
            item.unitPrice,
            args.orderTimeoutMs,
            (id) => {
              orderId = id;
            },
          );
          accept.push(timing.accept);
          placedToAssigned.push(timing.placedToAssigned);
          completeToDelivered.push(timing.completeToDelivered);
        } catch (err) {
          failures.push({
            ...(orderId ? { orderId } : {}),
            reason: err instanceof Error ? err.message : String(err),
          });
        }
        done += 1;
        if (done % Math.max(1, Math.floor(args.orders / 10)) === 0) log(`${done}/${args.orders} orders done`);
      },
    );
  } finally {
    clearInterval(sampler);
    await sampleMemory(memory).catch(() => {});
    // Leave the driver pool as it was: the drivers the benchmark added go off duty.
    await mapConcurrently(drivers, 10, (driver: Driver) =>
      putDriver(driver.driverId, driver.name, 'OFF_DUTY'),
    );
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const delivered = completeToDelivered.length;
  return {
    startedAt: startedAt.toISOString(),
    settings: { orders: args.orders, concurrency: args.concurrency, orderTimeoutMs: args.orderTimeoutMs },
    machine: { cpus: cpus().length, memoryBytes: totalmem(), node: process.version },
    wallSeconds,
    ordersPerSecond: delivered / wallSeconds,
    delivered,
    failures,
    latencyMs: {
      accept: summarize(accept),
      placedToAssigned: summarize(placedToAssigned),
      completeToDelivered: summarize(completeToDelivered),
    },
    memory: memory.summaries(),
  };
}

/** One order from POST to DELIVERED; throws OrderFailed (or a transport error) when it does not get there. */
async function driveOrder(
  customerId: string,
  itemId: string,
  unitPrice: string,
  timeoutMs: number,
  onPlaced: (orderId: string) => void,
): Promise<{ accept: number; placedToAssigned: number; completeToDelivered: number }> {
  const deadline = Date.now() + timeoutMs;
  const token = await tokenFor(customerId);
  const t0 = performance.now();
  // Far from the depot, so the local stack's simulated fleet never completes a delivery before the
  // benchmark does: it measures POST …/complete → DELIVERED.
  const body = orderBody(customerId, [{ itemId, quantity: 1, unitPrice }], 'EUR', FAR_FROM_DEPOT_ADDRESS);
  const answer = await postOrder(customerId, body, {
    token,
  });
  const accepted = performance.now();
  if (answer.status !== 201)
    throw new OrderFailed(`POST /api/orders answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  const { orderId } = answer.body;
  onPlaced(orderId);

  const stream = await openOrderStream(orderId, token, deadline);
  try {
    const assigned = await nextStatus(
      stream,
      (status) => status === 'DELIVERY_ASSIGNED' || isTerminal(status),
      deadline,
    );
    if (assigned !== 'DELIVERY_ASSIGNED')
      throw new OrderFailed(`ended ${assigned} instead of DELIVERY_ASSIGNED`);
    const assignedAt = performance.now();

    const completeStart = performance.now();
    await completeDelivery(orderId);
    const final = await nextStatus(stream, isTerminal, deadline);
    if (final !== 'DELIVERED') throw new OrderFailed(`ended ${final} instead of DELIVERED`);
    return {
      accept: accepted - t0,
      placedToAssigned: assignedAt - t0,
      completeToDelivered: performance.now() - completeStart,
    };
  } finally {
    stream.close();
  }
}

/** query-api's live stream of the order; it answers 404 until the read model has seen order.created. */
async function openOrderStream(orderId: string, token: string, deadline: number): Promise<SseClient> {
  const url = `${serviceUrl('query-api')}/api/orders/${orderId}/events`;
  return eventually(
    async () => {
      const stream = await openSse(url, token);
      if (stream.status === 200) return stream;
      stream.close();
      throw new OrderFailed(`GET ${url} answered ${stream.status}`);
    },
    { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 20 },
  );
}

/** Reads the stream's views until one has a status `wanted` accepts, and returns that status. */
async function nextStatus(
  stream: SseClient,
  wanted: (status: OrderStatus) => boolean,
  deadline: number,
): Promise<OrderStatus> {
  let last: OrderStatus | undefined;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new OrderFailed(`timed out while ${last ?? 'not yet visible'}`);
    const frame = await stream.next(remaining).catch((err: Error) => {
      throw new OrderFailed(`${err.message} (last status ${last ?? 'none'})`);
    });
    if (frame.event !== 'order') continue;
    last = (JSON.parse(frame.data) as { status: OrderStatus }).status;
    if (wanted(last)) return last;
  }
}

async function sampleMemory(memory: MemoryTracker): Promise<void> {
  await Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const text = await scrape(serviceUrl(name));
      memory.record(name, metricSum(text, 'process_resident_memory_bytes'));
    }),
  );
}
