import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal } from '@dispatch/contracts';
import {
  admin,
  createItem,
  type Driver,
  ensureFreeDrivers,
  getDelivery,
  getItem,
  getPayment,
  http,
  mapConcurrently,
  type OrderView,
  orderBody,
  postOrder,
  putDriver,
  readOrder,
  requireRunningServices,
  SERVICE_NAMES,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';
import type { ChaosArgs } from './args';
import { BusAudit, readModelViolations } from './audit';
import { type Disruption, Disruptor, type Struck, shuffledRound } from './disruptions';
import { dlqViolations, type OrderEvidence, violations } from './invariants';

/**
 * The chaos runner: load from careful clients while services are killed (SIGKILL) and restarted and
 * servers are broken (disruptions.ts), then a check of what must hold regardless (invariants.ts),
 * through the public APIs and on the bus (audit.ts), as an operator's crash would be seen.
 */

export interface ChaosResult {
  settings: ChaosArgs;
  disruptions: Struck[];
  /** Orders whose POST was accepted (201). */
  accepted: number;
  delivered: number;
  /** Client retries: POSTs, polls and completes that met a crashed or restarting service. */
  clientRetries: number;
  violations: string[];
}

const POLL_MS = 200;
const RETRY_MS = 250;

class Deadline {
  constructor(private readonly at: number) {}
  get passed(): boolean {
    return Date.now() >= this.at;
  }
}

export async function runChaos(
  args: ChaosArgs,
  log: (line: string) => void = () => {},
): Promise<ChaosResult> {
  await requireRunningServices(SERVICE_NAMES);
  const disruptor = new Disruptor(log);
  const bus = new BusAudit(randomUUID().slice(0, 8));
  await bus.begin();
  await disruptor.setUp(args.faults);
  // Enough stock for any number of orders the run can place; what is sold is checked against it.
  const item = await createItem({ available: 1_000_000, idPrefix: 'chaos-item' });
  const drivers = await ensureFreeDrivers(args.concurrency, 'chaos-driver');
  await bus.injectPoison();
  log(
    `item ${item.itemId}; ${drivers.length} drivers added; poison on every raw topic; load for ${args.durationMs / 1000} s`,
  );

  const accepted: string[] = [];
  const counters = { retries: 0 };
  const loadEnds = Date.now() + args.durationMs;
  const disruptions: Struck[] = [];
  // Set when the run ends early (a worker or a disruption failed): no more disruptions after that.
  let stopped = false;

  // A round once begun is finished (the load goes on meanwhile), so every disruption strikes at least once.
  let disrupting = true;
  const chaos = (async () => {
    let round: Disruption[] = [];
    try {
      while (!stopped && (round.length > 0 || Date.now() < loadEnds)) {
        if (round.length === 0) round = shuffledRound(args.victims, args.faults);
        await sleep(args.intervalMs * (0.5 + Math.random()));
        if (stopped) break;
        const struck = await disruptor.strike(round.shift()!);
        disruptions.push(struck);
        log(`${struck.what}: every service ready again after ${(struck.recoveryMs / 1000).toFixed(1)} s`);
      }
    } finally {
      disrupting = false;
    }
  })();

  const load = mapConcurrently(
    Array.from({ length: args.concurrency }, (_, worker) => worker),
    args.concurrency,
    async (worker) => {
      while ((Date.now() < loadEnds || disrupting) && !stopped) {
        const customerId = `chaos-customer-${worker}`;
        const deadline = new Deadline(Date.now() + args.orderTimeoutMs);
        const orderId = await placeOrder(customerId, item.itemId, item.unitPrice, deadline, counters);
        if (!orderId) continue;
        accepted.push(orderId);
        await followToDelivered(orderId, deadline, counters);
      }
    },
  );

  try {
    await Promise.all([chaos, load]);
  } finally {
    stopped = true;
    await Promise.allSettled([chaos, load]);
    // Whatever happened, leave every server and service running on its own address.
    await disruptor.tearDown();
    await mapConcurrently(drivers, 10, (driver: Driver) =>
      putDriver(driver.driverId, driver.name, 'OFF_DUTY'),
    );
  }
  log(`${accepted.length} orders accepted, ${disruptions.length} disruptions; checking invariants`);

  const evidence = await mapConcurrently(accepted, 10, evidenceOf);
  const after = await getItem(item.itemId);
  const found = violations(evidence, {
    initialAvailable: item.available,
    available: after.available,
    reserved: after.reserved,
  });
  const events = await bus.eventsOf(new Set(accepted));
  found.push(...(await readModelViolations(events, accepted)));
  found.push(...dlqViolations(await bus.deadLetters(), bus.expectedPoison()));
  for (const d of disruptions) {
    for (const name of d.crashed) found.push(`${name} crashed during "${d.what}" (restarted by the run)`);
  }
  return {
    settings: args,
    disruptions,
    accepted: accepted.length,
    delivered: evidence.filter((e) => e.status === 'DELIVERED').length,
    clientRetries: counters.retries,
    violations: found,
  };
}

/**
 * POST /api/orders as a careful client: the same Idempotency-Key on every try, so a retry after a
 * lost answer returns the order the first try created instead of a second one. Retries connection
 * errors, 5xx and 409 (the first try is still in flight); undefined if the deadline passes.
 */
async function placeOrder(
  customerId: string,
  itemId: string,
  unitPrice: string,
  deadline: Deadline,
  counters: { retries: number },
): Promise<string | undefined> {
  const idempotencyKey = randomUUID();
  const body = orderBody(customerId, [{ itemId, quantity: 1, unitPrice }]);
  const token = await tokenFor(customerId);
  while (!deadline.passed) {
    const answer = await postOrder(customerId, body, { idempotencyKey, token }).catch(() => undefined);
    if (answer?.status === 201) return answer.body.orderId;
    if (answer && answer.status < 500 && answer.status !== 409 && answer.status !== 429) {
      throw new Error(`POST /api/orders answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
    counters.retries += 1;
    await sleep(RETRY_MS);
  }
  return undefined;
}

/** Polls the view until a driver is assigned, completes the delivery (retrying), and polls until DELIVERED. */
async function followToDelivered(
  orderId: string,
  deadline: Deadline,
  counters: { retries: number },
): Promise<void> {
  const assigned = await pollStatus(
    orderId,
    deadline,
    counters,
    (s) => s === 'DELIVERY_ASSIGNED' || isTerminal(s),
  );
  if (assigned !== 'DELIVERY_ASSIGNED') return; // the final check reports it
  while (!deadline.passed) {
    const answer = await http(
      'POST',
      `${serviceUrl('delivery-service')}/api/deliveries/${orderId}/complete`,
      {
        token: await admin(),
      },
    ).catch(() => undefined);
    if (answer?.status === 200) break;
    // 409 after a lost answer: the first try completed it.
    if (answer?.status === 409 && (await getDelivery(orderId).catch(() => undefined))?.status === 'COMPLETED')
      break;
    counters.retries += 1;
    await sleep(RETRY_MS);
  }
  await pollStatus(orderId, deadline, counters, isTerminal);
}

async function pollStatus(
  orderId: string,
  deadline: Deadline,
  counters: { retries: number },
  wanted: (status: OrderView['status']) => boolean,
): Promise<OrderView['status'] | undefined> {
  while (!deadline.passed) {
    const view = await readOrder(orderId).catch(() => {
      counters.retries += 1;
      return undefined;
    });
    if (view && wanted(view.status)) return view.status;
    await sleep(POLL_MS);
  }
  return undefined;
}

async function evidenceOf(orderId: string): Promise<OrderEvidence> {
  const [view, payment] = await Promise.all([readOrder(orderId), getPayment(orderId)]);
  return {
    orderId,
    status: view?.status,
    payment: payment ? { status: payment.status, refunded: payment.refund !== null } : undefined,
    authorizedEvents: view?.timeline.filter((entry) => entry.eventType === 'payment.authorized').length ?? 0,
  };
}
