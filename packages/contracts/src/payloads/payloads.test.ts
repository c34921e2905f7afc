import { EVENT_TYPES, type EventType, payloadSchemaFor } from '../events';
import { SAGA_PATHS, sampleEvents } from '../testing';

/** One valid payload per event type, taken from the sample saga paths. */
function validPayloads(): Map<EventType, Record<string, unknown>> {
  const byType = new Map<EventType, Record<string, unknown>>();
  for (const path of SAGA_PATHS) {
    for (const event of sampleEvents(path, { orderId: 'order-1', customerId: 'customer-1' })) {
      if (!byType.has(event.eventType)) byType.set(event.eventType, { ...event.payload });
    }
  }
  return byType;
}

const valid = validPayloads();

function validPayload(eventType: EventType): Record<string, unknown> {
  const payload = valid.get(eventType);
  if (!payload) throw new Error(`no sample payload for ${eventType}`);
  return structuredClone(payload);
}

function issuePaths(eventType: EventType, payload: unknown): string[] {
  const schema = payloadSchemaFor(eventType, 1);
  if (!schema) throw new Error(`no schema for ${eventType}`);
  const result = schema.safeParse(payload);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('payload schemas', () => {
  it('has a sample for every event type', () => {
    expect([...valid.keys()].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each([...EVENT_TYPES])('accepts a valid %s payload', (eventType) => {
    expect(issuePaths(eventType, validPayload(eventType))).toEqual([]);
  });

  it.each([...EVENT_TYPES])('%s requires orderId', (eventType) => {
    const payload = validPayload(eventType);
    delete payload.orderId;
    expect(issuePaths(eventType, payload)).toEqual(['orderId']);
  });

  describe('order.created', () => {
    it('keeps the seed field names', () => {
      expect(Object.keys(validPayload('order.created'))).toEqual(
        expect.arrayContaining(['customerId', 'totalAmount', 'currency', 'items']),
      );
    });

    it('reports each bad line field by path', () => {
      const payload = validPayload('order.created');
      payload.items = [
        { itemId: '', quantity: 0, unitPrice: '1.5' },
        { itemId: 'b', quantity: 1.5, unitPrice: '1.00' },
      ];
      expect(issuePaths('order.created', payload)).toEqual([
        'items.0.itemId',
        'items.0.quantity',
        'items.0.unitPrice',
        'items.1.quantity',
      ]);
    });

    it('requires totalAmount to be the total of the items', () => {
      const payload = validPayload('order.created');
      payload.totalAmount = '64.98';
      expect(issuePaths('order.created', payload)).toEqual(['totalAmount']);
    });

    it('accepts lines without unitPrice; totalAmount is the total of the priced lines only', () => {
      const payload = validPayload('order.created');
      payload.items = [
        { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
        { itemId: 'sku-milk-frother', quantity: 1 },
      ];
      payload.totalAmount = '25.00';
      expect(issuePaths('order.created', payload)).toEqual([]);
    });

    it('accepts an order with no prices at all, totalling 0.00', () => {
      const payload = validPayload('order.created');
      payload.items = [
        { itemId: 'sku-espresso-beans-1kg', quantity: 2 },
        { itemId: 'sku-milk-frother', quantity: 1 },
      ];
      payload.totalAmount = '0.00';
      expect(issuePaths('order.created', payload)).toEqual([]);
      payload.totalAmount = '64.99';
      expect(issuePaths('order.created', payload)).toEqual(['totalAmount']);
    });

    it('still refuses a totalAmount that is not the total of the priced lines', () => {
      const payload = validPayload('order.created');
      payload.items = [
        { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
        { itemId: 'sku-milk-frother', quantity: 1 },
      ];
      // What the order would cost at catalogue prices is not what the priced lines total.
      payload.totalAmount = '64.99';
      expect(issuePaths('order.created', payload)).toEqual(['totalAmount']);
      payload.totalAmount = '24.99';
      expect(issuePaths('order.created', payload)).toEqual(['totalAmount']);
    });

    it('refuses a unitPrice that is present but not money', () => {
      const payload = validPayload('order.created');
      payload.items = [{ itemId: 'a', quantity: 1, unitPrice: null }];
      payload.totalAmount = '0.00';
      expect(issuePaths('order.created', payload)).toEqual(['items.0.unitPrice']);
    });

    it('holds item ids to the item id rule: 1-64 of A-Z a-z 0-9 . _ : -', () => {
      const payload = validPayload('order.created');
      payload.totalAmount = '0.00';
      for (const itemId of ['a', 'sku:1.2_x-y', 'a'.repeat(64)]) {
        payload.items = [{ itemId, quantity: 1 }];
        expect(issuePaths('order.created', payload)).toEqual([]);
      }
      for (const itemId of ['', 'a b', '../etc', 'a'.repeat(65), 'café']) {
        payload.items = [{ itemId, quantity: 1 }];
        expect(issuePaths('order.created', payload)).toEqual(['items.0.itemId']);
      }
    });

    it('refuses the same item on two lines', () => {
      const payload = validPayload('order.created');
      payload.items = [
        { itemId: 'a', quantity: 1, unitPrice: '1.00' },
        { itemId: 'a', quantity: 2, unitPrice: '1.00' },
      ];
      payload.totalAmount = '3.00';
      expect(issuePaths('order.created', payload)).toEqual(['items.1.itemId']);
    });

    it('refuses an empty order, an unknown currency and a bad address', () => {
      const payload = validPayload('order.created');
      payload.items = [];
      payload.totalAmount = '0.00';
      payload.currency = 'XYZ';
      payload.deliveryAddress = { line1: 'x', city: 'y', postcode: 'z', lat: 91, lng: -181 };
      expect(issuePaths('order.created', payload)).toEqual([
        'currency',
        'items',
        'deliveryAddress.lat',
        'deliveryAddress.lng',
      ]);
    });

    it('allows a card without a token, and refuses card numbers posing as tokens', () => {
      const payload = validPayload('order.created');
      payload.paymentMethod = { type: 'card' };
      expect(issuePaths('order.created', payload)).toEqual([]);
      payload.paymentMethod = { type: 'card', token: '4242424242424242' };
      expect(issuePaths('order.created', payload)).toEqual(['paymentMethod.token']);
      payload.paymentMethod = { type: 'card', token: 'tok_4111111111111111' };
      expect(issuePaths('order.created', payload)).toEqual(['paymentMethod.token']);
      payload.paymentMethod = { type: 'cash' };
      expect(issuePaths('order.created', payload)).toEqual(['paymentMethod.type']);
    });
  });

  describe('order.cancelled', () => {
    it('needs who cancelled; the reason is optional', () => {
      const payload = validPayload('order.cancelled');
      delete payload.reason;
      expect(issuePaths('order.cancelled', payload)).toEqual([]);
      payload.cancelledBy = 'ROBOT';
      expect(issuePaths('order.cancelled', payload)).toEqual(['cancelledBy']);
    });
  });

  describe('inventory', () => {
    it('keeps the seed field names', () => {
      for (const eventType of ['inventory.reserved', 'inventory.rejected', 'inventory.released'] as const) {
        expect(Object.keys(validPayload(eventType))).toEqual(
          expect.arrayContaining(['orderId', 'amount', 'currency', 'customerId']),
        );
      }
    });

    it('reserved: amount is the total of the catalogue-priced lines', () => {
      const payload = validPayload('inventory.reserved');
      payload.amount = '1.00';
      expect(issuePaths('inventory.reserved', payload)).toEqual(['amount']);
      payload.lines = [];
      payload.amount = '0.00';
      expect(issuePaths('inventory.reserved', payload)).toEqual(['lines']);
    });

    it('reserved: every line carries a unitPrice and a valid item id', () => {
      const payload = validPayload('inventory.reserved');
      payload.lines = [{ itemId: 'sku-milk-frother', quantity: 1 }];
      payload.amount = '0.00';
      expect(issuePaths('inventory.reserved', payload)).toEqual(['lines.0.unitPrice']);
      payload.lines = [{ itemId: 'sku 1', quantity: 1, unitPrice: '1.00' }];
      payload.amount = '1.00';
      expect(issuePaths('inventory.reserved', payload)).toEqual(['lines.0.itemId']);
    });

    it('rejected: one known reason per line', () => {
      const payload = validPayload('inventory.rejected');
      payload.reasons = [{ itemId: 'a', reason: 'TOO_EXPENSIVE' }];
      expect(issuePaths('inventory.rejected', payload)).toEqual(['reasons.0.reason']);
      payload.reasons = [];
      expect(issuePaths('inventory.rejected', payload)).toEqual(['reasons']);
      for (const reason of ['OUT_OF_STOCK', 'UNKNOWN_ITEM', 'PRICE_MISMATCH', 'CURRENCY_MISMATCH']) {
        payload.reasons = [{ itemId: 'a', reason }];
        expect(issuePaths('inventory.rejected', payload)).toEqual([]);
      }
    });

    it('released: a known reason, and possibly nothing to release', () => {
      const payload = validPayload('inventory.released');
      payload.reason = 'BORED';
      expect(issuePaths('inventory.released', payload)).toEqual(['reason']);
      payload.reason = 'DEADLINE_EXCEEDED';
      payload.lines = [];
      payload.amount = '0.00';
      expect(issuePaths('inventory.released', payload)).toEqual([]);
    });
  });

  describe('payment', () => {
    it('keeps the seed field names', () => {
      expect(Object.keys(validPayload('payment.failed'))).toEqual(
        expect.arrayContaining(['paymentId', 'orderId', 'amount', 'currency', 'status', 'failureReason']),
      );
    });

    it('fixes the status per event type', () => {
      const authorized = validPayload('payment.authorized');
      authorized.status = 'FAILED';
      expect(issuePaths('payment.authorized', authorized)).toEqual(['status']);
      const refunded = validPayload('payment.refunded');
      refunded.status = 'AUTHORIZED';
      expect(issuePaths('payment.refunded', refunded)).toEqual(['status']);
    });

    it('failed needs a reason code', () => {
      const payload = validPayload('payment.failed');
      for (const bad of ['card declined', 'Card_Declined', 'x', '_card']) {
        payload.failureReason = bad;
        expect(issuePaths('payment.failed', payload)).toEqual(['failureReason']);
      }
      for (const good of ['card_declined', 'gateway_unavailable', 'DEADLINE_EXCEEDED']) {
        payload.failureReason = good;
        expect(issuePaths('payment.failed', payload)).toEqual([]);
      }
      delete payload.failureReason;
      expect(issuePaths('payment.failed', payload)).toEqual(['failureReason']);
    });

    it('refunded needs a refundId and a known reason', () => {
      const payload = validPayload('payment.refunded');
      delete payload.refundId;
      payload.reason = 'WHIM';
      expect(issuePaths('payment.refunded', payload)).toEqual(['refundId', 'reason']);
    });

    it('refuses amounts that are not 2-dp strings', () => {
      const payload = validPayload('payment.authorized');
      payload.amount = 64.99;
      expect(issuePaths('payment.authorized', payload)).toEqual(['amount']);
    });
  });

  describe('delivery', () => {
    it('keeps the seed field names', () => {
      expect(Object.keys(validPayload('delivery.assigned'))).toEqual(
        expect.arrayContaining(['orderId', 'deliveryId', 'driverName', 'status', 'estimatedDeliveryTime']),
      );
    });

    it('needs an ETA with an offset', () => {
      const assigned = validPayload('delivery.assigned');
      assigned.estimatedDeliveryTime = '2024-02-07T15:45:00';
      expect(issuePaths('delivery.assigned', assigned)).toEqual(['estimatedDeliveryTime']);
      const eta = validPayload('eta.updated');
      eta.status = 'COMPLETED';
      delete eta.driverName;
      expect(issuePaths('eta.updated', eta)).toEqual(['driverName', 'status']);
    });

    it('failed may lack a driver but needs a reason code', () => {
      const payload = validPayload('delivery.failed');
      expect(payload.driverName).toBeUndefined();
      expect(issuePaths('delivery.failed', payload)).toEqual([]);
      payload.reason = '';
      expect(issuePaths('delivery.failed', payload)).toEqual(['reason']);
    });

    it('completed needs completedAt', () => {
      const payload = validPayload('delivery.completed');
      delete payload.completedAt;
      expect(issuePaths('delivery.completed', payload)).toEqual(['completedAt']);
    });
  });
});
