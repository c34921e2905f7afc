import type { AnyEvent } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { writesFor } from '../handlers';
import { MAX_BATCH_STATEMENTS, planApply } from './read-model-store';

const tableOf = (query: string) => /INSERT INTO \w+\.(\w+) /.exec(query)?.[1];

describe('planApply', () => {
  const events = sampleEvents('happy');
  const orderId = events[0]?.orderId as string;

  it('one order: one timeline batch and one listing row first, then one batch of the orders cells', () => {
    const plan = planApply('ks', events.map(writesFor));
    expect(plan.first).toHaveLength(2);
    const [timeline, listing] = [...plan.first].sort((a, b) => b.length - a.length) as [
      { query: string; params: unknown[] }[],
      { query: string; params: unknown[] }[],
    ];
    expect(timeline.map((s) => tableOf(s.query))).toEqual(events.map(() => 'order_timeline'));
    expect(timeline.every((s) => s.params[0] === orderId)).toBe(true);
    expect(listing.map((s) => tableOf(s.query))).toEqual(['orders_by_customer']);
    expect(plan.orders).toHaveLength(1);
    const cells = plan.orders[0] ?? [];
    expect(cells.every((s) => tableOf(s.query) === 'orders' && s.params[0] === orderId)).toBe(true);
    expect(cells).toHaveLength(events.flatMap(writesFor).filter((w) => w.table === 'orders').length);
  });

  it('every request holds one partition: several orders give requests per order and per customer', () => {
    const other = sampleEvents('paymentFailed');
    const plan = planApply('ks', [...events, ...other].map(writesFor));
    for (const request of [...plan.first, ...plan.orders]) {
      const keys = new Set(request.map((s) => `${tableOf(s.query)}|${String(s.params[0])}`));
      expect(keys.size).toBe(1);
    }
    expect(plan.orders).toHaveLength(2);
  });

  it('splits big requests without splitting one event’s orders cells', () => {
    const [created, reserved, authorized, assigned] = events as [AnyEvent, AnyEvent, AnyEvent, AnyEvent];
    const etas = Array.from({ length: 40 }, (_, i) => ({
      ...assigned,
      eventId: `${assigned.eventId.slice(0, 30)}${String(i).padStart(6, '0')}`,
      occurredAt: new Date(Date.parse(assigned.occurredAt) + i * 1000).toISOString(),
    })) as AnyEvent[];
    const perEvent = [created, reserved, authorized, ...etas].map(writesFor);
    const plan = planApply('ks', perEvent);
    for (const request of [...plan.first, ...plan.orders])
      expect(request.length).toBeLessThanOrEqual(MAX_BATCH_STATEMENTS);
    const total = (requests: { query: string }[][], table: string) =>
      requests.flat().filter((s) => tableOf(s.query) === table).length;
    expect(total(plan.first, 'order_timeline')).toBe(perEvent.length);
    expect(total(plan.orders, 'orders')).toBe(perEvent.flat().filter((w) => w.table === 'orders').length);
    // Each event's orders statements sit in one request.
    const requestOf = new Map<unknown, number>();
    plan.orders.forEach((request, i) => {
      for (const s of request) requestOf.set(s, i);
    });
    let offset = 0;
    const flat = plan.orders.flat();
    for (const writes of perEvent) {
      const n = writes.filter((w) => w.table === 'orders').length;
      const slots = new Set(flat.slice(offset, offset + n).map((s) => requestOf.get(s)));
      expect(slots.size).toBe(1);
      offset += n;
    }
  });
});
