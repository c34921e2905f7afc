import { applyEvent, FoldError, foldOrder } from './fold';
import { ORDER_ID, pathEvents } from './fold.fixtures';
import { emptyFacts } from './order-facts';
import { sampleEvents } from './testing';

describe('fold errors and purity', () => {
  it('refuses to fold nothing', () => {
    expect(() => foldOrder([])).toThrow(FoldError);
  });

  it('refuses events of another order', () => {
    const mine = pathEvents('happy');
    const theirs = sampleEvents('happy', { orderId: 'order-other' });
    expect(() => foldOrder([...mine, ...theirs])).toThrow(FoldError);
    expect(() => applyEvent(emptyFacts(ORDER_ID), theirs[0]!)).toThrow(/order-other/);
  });

  it('does not modify the facts it is given', () => {
    const events = pathEvents('deliveryFailed');
    let facts = emptyFacts(ORDER_ID);
    for (const event of events) {
      const before = JSON.stringify(facts);
      const next = applyEvent(facts, event);
      expect(JSON.stringify(facts)).toBe(before);
      facts = next;
    }
  });
});
