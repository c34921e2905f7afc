import { type AnyEvent, foldOrder, toOrderView } from '@dispatch/contracts';
import {
  prng,
  SAGA_FINAL_STATUS,
  SAGA_PATHS,
  sampleEvents,
  shuffledWithDuplicates,
} from '@dispatch/contracts/testing';
import { writesFor } from '../handlers';
import { factsFromRow } from './facts-from-row';
import { type ColumnValue, ORDER_COLUMNS, type OrderRow, type ReadModelWrite } from './writes';

/**
 * The write rules checked against the contract's fold without a server: a tiny model of Cassandra's
 * last-write-wins (per cell: the higher write timestamp wins; on equal timestamps a deletion wins,
 * then the greater value) applies every event's writes in shuffled, duplicated order, and the row
 * read back must give the fold's view. The integration tests repeat this against real Cassandra.
 */

interface Cell {
  timestamp: bigint;
  value: ColumnValue;
}

function cellWins(candidate: Cell, current: Cell | undefined): boolean {
  if (!current || candidate.timestamp > current.timestamp) return true;
  if (candidate.timestamp < current.timestamp) return false;
  if (candidate.value === null || current.value === null) return candidate.value === null;
  const bytes = (v: string | Date) => (v instanceof Date ? String(v.getTime()).padStart(16, '0') : v);
  return bytes(candidate.value) > bytes(current.value);
}

class LastWriteWinsRow {
  private readonly cells = new Map<string, Cell>();

  apply(writes: ReadModelWrite[]): void {
    for (const write of writes) {
      if (write.table !== 'orders') continue;
      for (const [column, value] of Object.entries(write.values)) {
        if (column === 'order_id') continue;
        const candidate = { timestamp: write.timestamp, value: value ?? null };
        if (cellWins(candidate, this.cells.get(column))) this.cells.set(column, candidate);
      }
    }
  }

  read(): OrderRow {
    return Object.fromEntries(ORDER_COLUMNS.map((c) => [c, this.cells.get(c)?.value ?? null])) as OrderRow;
  }
}

function hexId(random: () => number): string {
  const hex = () => Math.floor(random() * 16).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join('');
  return `${part(8)}-${part(4)}-4${part(3)}-8${part(3)}-${part(12)}`;
}

/**
 * A competing copy of an event: a new eventId, and occurredAt moved by up to ±2 s (sometimes not
 * at all, to exercise the eventId tie-break). ETA copies also carry a different ETA and driver.
 */
function rival(event: AnyEvent, random: () => number): AnyEvent {
  let eventId = hexId(random);
  // Same-millisecond rivals must differ in the eventId's first two characters (the tie-break's reach).
  while (eventId.slice(0, 2) === event.eventId.slice(0, 2)) eventId = hexId(random);
  const shiftMs = random() < 0.3 ? 0 : Math.round((random() - 0.5) * 4000);
  const occurredAt = new Date(Date.parse(event.occurredAt) + shiftMs).toISOString();
  const copy = { ...event, eventId, occurredAt, producedAt: occurredAt } as AnyEvent;
  if (copy.eventType === 'eta.updated' || copy.eventType === 'delivery.assigned') {
    copy.payload = {
      ...copy.payload,
      estimatedDeliveryTime: new Date(Date.parse(occurredAt) + 30 * 60_000).toISOString(),
      driverName: `Driver ${eventId.slice(0, 4)}`,
      ...(random() < 0.5 ? { driverId: undefined } : {}),
    } as typeof copy.payload;
  }
  if (copy.eventType === 'delivery.completed') {
    copy.payload = { ...copy.payload, completedAt: occurredAt };
  }
  return copy;
}

function viewFromWrites(events: AnyEvent[]) {
  const row = new LastWriteWinsRow();
  for (const event of events) row.apply(writesFor(event));
  return toOrderView(factsFromRow(events[0]?.orderId as string, row.read()));
}

describe('read model write rules converge to the fold', () => {
  const seeds = Array.from({ length: 25 }, (_, i) => i + 1);

  it.each([...SAGA_PATHS])('%s: any order, any duplicates', (path) => {
    for (const seed of seeds) {
      const random = prng(seed);
      const events = sampleEvents(path, { startAt: '2026-03-01T10:00:00.000Z' });
      const expected = foldOrder(events);
      expect(expected.status).toBe(SAGA_FINAL_STATUS[path]);
      expect(viewFromWrites(shuffledWithDuplicates(events, random))).toEqual(expected);
    }
  });

  it.each([...SAGA_PATHS])('%s: with rival copies of events competing for each column group', (path) => {
    for (const seed of seeds) {
      const random = prng(1000 + seed);
      const base = sampleEvents(path, { startAt: '2026-03-01T10:00:00.000Z' });
      const events = [...base, ...base.filter(() => random() < 0.6).map((e) => rival(e, random))];
      expect(viewFromWrites(shuffledWithDuplicates(events, random))).toEqual(foldOrder(events));
    }
  });

  it('contradictory facts (every path of one order at once) resolve by the fold’s precedence', () => {
    for (const seed of seeds) {
      const random = prng(5000 + seed);
      const orderId = `order-mixed-${seed}`;
      // Distinct start times per path keep rivals out of the same millisecond.
      const events = SAGA_PATHS.flatMap((path, i) =>
        sampleEvents(path, {
          orderId,
          customerId: 'customer-mixed',
          startAt: new Date(Date.UTC(2026, 2, 1, 10, 0, 0, 7 * i)),
        }),
      );
      const expected = foldOrder(events);
      expect(expected.status).toBe('DELIVERED');
      expect(expected.payment?.status).toBe('FAILED');
      expect(expected.inventory?.status).toBe('REJECTED');
      expect(viewFromWrites(shuffledWithDuplicates(events, random))).toEqual(expected);
      const withoutCompletion = events.filter(
        (e) =>
          e.eventType !== 'delivery.completed' &&
          e.eventType !== 'eta.updated' &&
          e.eventType !== 'delivery.assigned',
      );
      expect(viewFromWrites(shuffledWithDuplicates(withoutCompletion, random))).toEqual(
        foldOrder(withoutCompletion),
      );
    }
  });

  it('every prefix of an arrival order (partial knowledge) also matches the fold', () => {
    for (const path of SAGA_PATHS) {
      const random = prng(77);
      const events = shuffledWithDuplicates(sampleEvents(path), random);
      for (let n = 1; n <= events.length; n++) {
        const prefix = events.slice(0, n);
        expect(viewFromWrites(prefix)).toEqual(foldOrder(prefix));
      }
    }
  });

  it('a late, older ETA never replaces a newer one', () => {
    const events = sampleEvents('happy', { startAt: '2026-03-01T10:00:00.000Z' });
    const etas = events.filter((e) => e.eventType === 'eta.updated');
    const newest = etas.at(-1);
    const reordered = [...events.filter((e) => e.eventType !== 'eta.updated'), ...[...etas].reverse()];
    const view = viewFromWrites(reordered);
    expect(newest?.eventType).toBe('eta.updated');
    expect(view.delivery?.etaEventId).toBe(newest?.eventId);
    expect(view).toEqual(foldOrder(events));
  });
});
