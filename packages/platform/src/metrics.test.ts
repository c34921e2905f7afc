import { observeStageLatency } from './metrics';

describe('observeStageLatency', () => {
  const observed: [Record<string, string>, number][] = [];
  const histogram = {
    observe: (labels: Record<string, string>, value: number) => observed.push([labels, value]),
  };
  const now = Date.parse('2026-11-21T10:00:01.500Z');

  beforeEach(() => {
    observed.length = 0;
  });

  it('observes seconds from the cause to now, from a string or a Date', () => {
    observeStageLatency(histogram, 'inventory.reserved', '2026-11-21T10:00:00.000Z', now);
    observeStageLatency(histogram, 'payment.refunded', new Date('2026-11-21T10:00:01.000Z'), now);
    expect(observed).toEqual([
      [{ stage: 'inventory.reserved' }, 1.5],
      [{ stage: 'payment.refunded' }, 0.5],
    ]);
  });

  it('counts a cause in the future (clock skew) as 0 and skips an unparseable time', () => {
    observeStageLatency(histogram, 'delivery.assigned', '2026-11-21T10:00:05.000Z', now);
    observeStageLatency(histogram, 'delivery.assigned', 'not a time', now);
    expect(observed).toEqual([[{ stage: 'delivery.assigned' }, 0]]);
  });

  it('does nothing without a histogram', () => {
    expect(() => observeStageLatency(undefined, 'x', '2026-11-21T10:00:00.000Z', now)).not.toThrow();
  });
});
