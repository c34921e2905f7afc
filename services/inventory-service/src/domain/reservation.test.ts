import type { RequestedLine } from '@dispatch/contracts';
import { decideOrderCreated, decideReservation, type OrderRequest } from './reservation';
import type { CatalogueItem, SeenOrderRecord } from './types';

function item(itemId: string, overrides: Partial<CatalogueItem> = {}): CatalogueItem {
  return {
    itemId,
    name: itemId,
    unitPrice: '10.00',
    currency: 'EUR',
    available: 5,
    reserved: 0,
    ...overrides,
  };
}

function catalogueOf(...items: CatalogueItem[]): Map<string, CatalogueItem> {
  return new Map(items.map((i) => [i.itemId, i]));
}

function order(items: RequestedLine[], currency: OrderRequest['currency'] = 'EUR'): OrderRequest {
  return { currency, items };
}

describe('decideReservation', () => {
  const catalogue = catalogueOf(
    item('beans', { unitPrice: '12.50', available: 10 }),
    item('frother', { unitPrice: '39.99', available: 1 }),
    item('tea', { unitPrice: '4.20', currency: 'GBP', available: 50 }),
  );

  it('reserves every line at catalogue prices and totals the amount', () => {
    const decision = decideReservation(
      order([
        { itemId: 'beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'frother', quantity: 1, unitPrice: '39.99' },
      ]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reserve',
      lines: [
        { itemId: 'beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'frother', quantity: 1, unitPrice: '39.99' },
      ],
      amount: '64.99',
    });
  });

  it('reserves exactly the available units', () => {
    const decision = decideReservation(
      order([{ itemId: 'beans', quantity: 10, unitPrice: '12.50' }]),
      catalogue,
    );
    expect(decision.kind).toBe('reserve');
  });

  it('rejects the whole order when one line is short, naming only that line', () => {
    const decision = decideReservation(
      order([
        { itemId: 'beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'frother', quantity: 2, unitPrice: '39.99' },
      ]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [{ itemId: 'frother', reason: 'OUT_OF_STOCK', requestedQuantity: 2, availableQuantity: 1 }],
    });
  });

  it('names an item the catalogue does not have', () => {
    const decision = decideReservation(
      order([{ itemId: 'ghost', quantity: 1, unitPrice: '1.00' }]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [{ itemId: 'ghost', reason: 'UNKNOWN_ITEM', requestedQuantity: 1 }],
    });
  });

  it('never trusts a client price: a different unitPrice is a PRICE_MISMATCH with the catalogue price', () => {
    for (const clientPrice of ['12.49', '12.51', '0.00']) {
      const decision = decideReservation(
        order([{ itemId: 'beans', quantity: 1, unitPrice: clientPrice }]),
        catalogue,
      );
      expect(decision).toEqual({
        kind: 'reject',
        reasons: [
          { itemId: 'beans', reason: 'PRICE_MISMATCH', requestedQuantity: 1, catalogueUnitPrice: '12.50' },
        ],
      });
    }
  });

  it('prices a line without unitPrice from the catalogue: no PRICE_MISMATCH is possible', () => {
    const decision = decideReservation(
      order([
        { itemId: 'beans', quantity: 2 },
        { itemId: 'frother', quantity: 1, unitPrice: '39.99' },
      ]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reserve',
      lines: [
        { itemId: 'beans', quantity: 2, unitPrice: '12.50' },
        { itemId: 'frother', quantity: 1, unitPrice: '39.99' },
      ],
      amount: '64.99',
    });
  });

  it('still checks a given unitPrice next to an unpriced line', () => {
    const decision = decideReservation(
      order([
        { itemId: 'beans', quantity: 2 },
        { itemId: 'frother', quantity: 1, unitPrice: '35.00' },
      ]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [
        { itemId: 'frother', reason: 'PRICE_MISMATCH', requestedQuantity: 1, catalogueUnitPrice: '39.99' },
      ],
    });
  });

  it('applies UNKNOWN_ITEM, CURRENCY_MISMATCH and OUT_OF_STOCK to lines without unitPrice', () => {
    const decision = decideReservation(
      order([
        { itemId: 'ghost', quantity: 1 },
        { itemId: 'tea', quantity: 1 },
        { itemId: 'frother', quantity: 2 },
        { itemId: 'beans', quantity: 1 },
      ]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [
        { itemId: 'ghost', reason: 'UNKNOWN_ITEM', requestedQuantity: 1 },
        { itemId: 'tea', reason: 'CURRENCY_MISMATCH', requestedQuantity: 1 },
        { itemId: 'frother', reason: 'OUT_OF_STOCK', requestedQuantity: 2, availableQuantity: 1 },
      ],
    });
  });

  it('refuses an item priced in another currency', () => {
    const decision = decideReservation(order([{ itemId: 'tea', quantity: 1, unitPrice: '4.20' }]), catalogue);
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [{ itemId: 'tea', reason: 'CURRENCY_MISMATCH', requestedQuantity: 1 }],
    });
  });

  it('gives every offending line one reason, the most fundamental first', () => {
    const decision = decideReservation(
      order([
        { itemId: 'ghost', quantity: 1, unitPrice: '1.00' },
        { itemId: 'tea', quantity: 999, unitPrice: '9.99' }, // wrong currency, price and stock
        { itemId: 'frother', quantity: 5, unitPrice: '1.00' }, // wrong price and stock
        { itemId: 'beans', quantity: 11, unitPrice: '12.50' }, // short
      ]),
      catalogue,
    );
    expect(decision.kind).toBe('reject');
    if (decision.kind !== 'reject') return;
    expect(decision.reasons.map((r) => [r.itemId, r.reason])).toEqual([
      ['ghost', 'UNKNOWN_ITEM'],
      ['tea', 'CURRENCY_MISMATCH'],
      ['frother', 'PRICE_MISMATCH'],
      ['beans', 'OUT_OF_STOCK'],
    ]);
  });

  it('lets repeated lines of one item draw on the same stock', () => {
    const decision = decideReservation(
      order([
        { itemId: 'beans', quantity: 6, unitPrice: '12.50' },
        { itemId: 'beans', quantity: 6, unitPrice: '12.50' },
      ]),
      catalogue,
    );
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [{ itemId: 'beans', reason: 'OUT_OF_STOCK', requestedQuantity: 6, availableQuantity: 4 }],
    });
  });

  it('treats an item with no units left as out of stock', () => {
    const decision = decideReservation(
      order([{ itemId: 'empty', quantity: 1, unitPrice: '10.00' }]),
      catalogueOf(item('empty', { available: 0, reserved: 3 })),
    );
    expect(decision).toEqual({
      kind: 'reject',
      reasons: [{ itemId: 'empty', reason: 'OUT_OF_STOCK', requestedQuantity: 1, availableQuantity: 0 }],
    });
  });
});

describe('decideOrderCreated', () => {
  const catalogue = catalogueOf(item('beans', { unitPrice: '12.50' }));
  const request = order([{ itemId: 'beans', quantity: 1, unitPrice: '12.50' }]);

  function record(overrides: Partial<SeenOrderRecord>): SeenOrderRecord {
    return {
      orderId: 'o-1',
      status: 'RESERVED',
      orderSeen: true,
      customerId: 'c-1',
      currency: 'EUR',
      lines: [],
      ...overrides,
    };
  }

  it('decides a first-seen order against the catalogue', () => {
    expect(decideOrderCreated(undefined, request, catalogue)).toEqual({
      kind: 'reserve',
      lines: [{ itemId: 'beans', quantity: 1, unitPrice: '12.50' }],
      amount: '12.50',
    });
  });

  it('does not reserve an order whose release came first, and announces that release instead', () => {
    const tombstone = {
      orderId: 'o-1',
      orderSeen: false,
      status: 'RELEASED',
      releaseReason: 'ORDER_CANCELLED',
    } as const;
    expect(decideOrderCreated(tombstone, request, catalogue)).toEqual({
      kind: 'releaseOverdue',
      reason: 'ORDER_CANCELLED',
    });
  });

  it.each(['RESERVED', 'REJECTED', 'RELEASED', 'SOLD'] as const)(
    'never decides a %s order twice',
    (status) => {
      expect(decideOrderCreated(record({ status }), request, catalogue)).toEqual({
        kind: 'alreadyDecided',
        status,
      });
    },
  );
});
