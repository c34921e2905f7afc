import { type AnyEvent, applyEvent, emptyFacts, type OrderFacts } from '@dispatch/contracts';
import {
  prng,
  SAGA_FINAL_STATUS,
  SAGA_PATHS,
  sampleEvents,
  shuffledWithDuplicates,
} from '@dispatch/contracts/testing';
import { DECIDING_EVENT_TYPES, type EndToEndObservation, endToEndObservation, mayDecide } from './end-to-end';
import { groupByOrder } from './order-batches';

const START = '2026-03-01T10:00:00.000Z';
const START_MS = Date.parse(START);

function factsOf(events: AnyEvent[]): OrderFacts {
  return events.reduce(applyEvent, emptyFacts(events[0]?.orderId as string));
}

function byType(events: AnyEvent[], eventType: AnyEvent['eventType']): AnyEvent {
  const found = events.find((e) => e.eventType === eventType);
  if (!found) throw new Error(`no ${eventType} among the sample events`);
  return found;
}

/**
 * The live consumer's rule with its claim modelled by a set: after each apply, observe when the
 * order is decided and nobody claimed it yet. Returns each observation with the index of the
 * event whose apply made it.
 */
function observationsOf(
  arrivals: AnyEvent[],
  nowMs: number,
): { index: number; value: EndToEndObservation }[] {
  const claimed = new Set<string>();
  const made: { index: number; value: EndToEndObservation }[] = [];
  let facts = emptyFacts(arrivals[0]?.orderId as string);
  arrivals.forEach((event, index) => {
    facts = applyEvent(facts, event);
    const value = endToEndObservation(facts, nowMs);
    if (value && !claimed.has(event.orderId)) {
      claimed.add(event.orderId);
      made.push({ index, value });
    }
  });
  return made;
}

describe('order end-to-end latency: the decision', () => {
  it('observes nothing while the derived status is not terminal', () => {
    const events = sampleEvents('happy', { startAt: START });
    const beforeCompletion = events.filter((e) => e.eventType !== 'delivery.completed');
    for (let n = 1; n <= beforeCompletion.length; n++) {
      expect(endToEndObservation(factsOf(beforeCompletion.slice(0, n)), START_MS + 60_000)).toBeUndefined();
    }
  });

  it('was non-terminal, now terminal: observes the terminal status and now − order.created occurredAt', () => {
    const events = sampleEvents('inventoryRejected', { startAt: START });
    const created = byType(events, 'order.created');
    expect(endToEndObservation(factsOf([created]), START_MS + 1_000)).toBeUndefined();
    expect(endToEndObservation(factsOf(events), START_MS + 2_500)).toEqual({
      status: 'INVENTORY_REJECTED',
      seconds: 2.5,
    });
  });

  it('terminal before order.created is applied: waits for it, then observes with its occurredAt', () => {
    const events = sampleEvents('happy', { startAt: START, stepMs: 60_000 });
    const created = byType(events, 'order.created');
    const rest = events.filter((e) => e !== created);
    const terminalFirst = factsOf(rest);
    // The fold already says DELIVERED, but createdAt is only the earliest event seen.
    expect(endToEndObservation(terminalFirst, START_MS + 600_000)).toBeUndefined();
    expect(endToEndObservation(applyEvent(terminalFirst, created), START_MS + 600_000)).toEqual({
      status: 'DELIVERED',
      seconds: 600,
    });
  });

  it('never negative when order.created occurredAt is ahead of this host’s clock', () => {
    const events = sampleEvents('paymentFailed', { startAt: START });
    expect(endToEndObservation(factsOf(events), START_MS - 5_000)).toEqual({
      status: 'PAYMENT_FAILED',
      seconds: 0,
    });
  });

  it.each([...SAGA_PATHS])(
    '%s: any arrival order with duplicates gives one observation, at the apply that decided the order',
    (path) => {
      for (let seed = 1; seed <= 40; seed++) {
        const events = sampleEvents(path, { startAt: START });
        const arrivals = shuffledWithDuplicates(events, prng(seed));
        const made = observationsOf(arrivals, START_MS + 30_000);
        expect(made).toHaveLength(1);
        const [only] = made as [{ index: number; value: EndToEndObservation }];
        expect(only.value).toEqual({ status: SAGA_FINAL_STATUS[path], seconds: 30 });
        // The deciding apply is the first one after which the order is decided; before it, nothing.
        const firstDecided = arrivals.findIndex(
          (_, i) => endToEndObservation(factsOf(arrivals.slice(0, i + 1)), 0) !== undefined,
        );
        expect(only.index).toBe(firstDecided);
        // ...and it is either the terminal event (order.created already known) or order.created (applied last).
        const decider = arrivals[only.index] as AnyEvent;
        const createdBefore = arrivals.slice(0, only.index).some((e) => e.eventType === 'order.created');
        if (createdBefore) expect(decider.eventType).not.toBe('order.created');
        else expect(decider.eventType).toBe('order.created');
      }
    },
  );
});

/**
 * The live consumer's batch rule with its claims modelled by a set: after each batch, every order
 * with a deciding event in the batch (`mayDecide`) is read; if decided and unclaimed, it is claimed
 * and observed. Arrivals of several orders are cut into batches at random; some batches are
 * delivered twice. Returns each observation with the batch index.
 */
function batchObservationsOf(
  arrivals: AnyEvent[],
  random: () => number,
  nowMs: number,
): { orderId: string; batch: number; value: EndToEndObservation }[] {
  const facts = new Map<string, OrderFacts>();
  const claimed = new Set<string>();
  const made: { orderId: string; batch: number; value: EndToEndObservation }[] = [];
  const batches: AnyEvent[][] = [];
  for (let i = 0; i < arrivals.length; ) {
    const n = 1 + Math.floor(random() * 6);
    const batch = arrivals.slice(i, i + n);
    batches.push(batch);
    if (random() < 0.3) batches.push(batch); // redelivered
    i += n;
  }
  batches.forEach((batch, index) => {
    const byOrder = groupByOrder(batch);
    for (const [orderId, events] of byOrder) {
      const before = facts.get(orderId) ?? emptyFacts(orderId);
      const after = events.reduce(applyEvent, before);
      facts.set(orderId, after);
      // What makes the read unnecessary must never hide a decision.
      if (!endToEndObservation(before, nowMs) && endToEndObservation(after, nowMs)) {
        expect(mayDecide(events)).toBe(true);
      }
    }
    for (const [orderId, events] of byOrder) {
      if (!mayDecide(events)) continue;
      const value = endToEndObservation(facts.get(orderId) as OrderFacts, nowMs);
      if (value && !claimed.has(orderId)) {
        claimed.add(orderId);
        made.push({ orderId, batch: index, value });
      }
    }
  });
  return made;
}

describe('order end-to-end latency: batches', () => {
  it('only order.created and the five terminal event types can decide an order', () => {
    expect([...DECIDING_EVENT_TYPES].sort()).toEqual([
      'delivery.completed',
      'delivery.failed',
      'inventory.rejected',
      'order.cancelled',
      'order.created',
      'payment.failed',
    ]);
    const happy = sampleEvents('happy');
    expect(mayDecide(happy.filter((e) => !DECIDING_EVENT_TYPES.has(e.eventType)))).toBe(false);
    expect(mayDecide([byType(happy, 'delivery.completed')])).toBe(true);
  });

  it('groups a batch by order, dropping duplicate events', () => {
    const a = sampleEvents('happy');
    const b = sampleEvents('paymentFailed');
    const [a0, a1] = a as [AnyEvent, AnyEvent];
    const [b0] = b as [AnyEvent];
    const grouped = groupByOrder([a0, b0, a1, a0, b0]);
    expect([...grouped.keys()]).toEqual([a0.orderId, b0.orderId]);
    expect(grouped.get(a0.orderId)).toEqual([a0, a1]);
    expect(grouped.get(b0.orderId)).toEqual([b0]);
  });

  it('several orders in random batches, some redelivered: one observation per order, in the batch that decided it', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = prng(seed);
      const orders = SAGA_PATHS.map((path) => sampleEvents(path, { startAt: START }));
      const arrivals = shuffledWithDuplicates(orders.flat(), prng(seed));
      const made = batchObservationsOf(arrivals, random, START_MS + 30_000);
      expect(made.map((m) => m.orderId).sort()).toEqual(orders.map((e) => e[0]?.orderId).sort());
      for (const [i, path] of SAGA_PATHS.entries()) {
        const only = made.find((m) => m.orderId === orders[i]?.[0]?.orderId);
        expect(only?.value).toEqual({ status: SAGA_FINAL_STATUS[path], seconds: 30 });
      }
    }
  });
});
