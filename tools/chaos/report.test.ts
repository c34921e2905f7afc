import { renderChaosReport } from './report';
import type { ChaosResult } from './run';

const base: ChaosResult = {
  settings: {
    durationMs: 20_000,
    intervalMs: 5_000,
    concurrency: 2,
    victims: ['order-service'],
    orderTimeoutMs: 60_000,
  },
  kills: [{ victim: 'order-service', at: '2026-11-21T10:00:00.000Z', recoveryMs: 2_345 }],
  accepted: 12,
  delivered: 12,
  clientRetries: 7,
  violations: [],
};

describe('renderChaosReport', () => {
  it('says what was killed, how long it took to come back, and that everything held', () => {
    expect(renderChaosReport(base)).toBe(
      '1 kills: order-service (back in 2.3 s)\n' +
        '12 orders accepted, 12 delivered; 7 client retries\n' +
        'every invariant held: each order delivered, charged once, stock exact\n',
    );
  });

  it('lists every violation', () => {
    const text = renderChaosReport({
      ...base,
      kills: [],
      delivered: 11,
      violations: ['o-1: PAYMENT_AUTHORIZED, not DELIVERED'],
    });
    expect(text).toContain('0 kills: none');
    expect(text).toContain('1 violations:\n  o-1: PAYMENT_AUTHORIZED, not DELIVERED\n');
  });
});
