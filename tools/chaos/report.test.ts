import { renderChaosReport } from './report';
import type { ChaosResult } from './run';

const base: ChaosResult = {
  settings: {
    durationMs: 20_000,
    intervalMs: 5_000,
    concurrency: 2,
    victims: ['order-service'],
    faults: ['postgres'],
    orderTimeoutMs: 60_000,
  },
  disruptions: [
    {
      what: 'order-service killed (SIGKILL)',
      at: '2026-11-21T10:00:00.000Z',
      recoveryMs: 2_345,
      crashed: [],
    },
    { what: 'postgres refused for 4.0 s', at: '2026-11-21T10:00:10.000Z', recoveryMs: 1_050, crashed: [] },
  ],
  accepted: 12,
  delivered: 12,
  clientRetries: 7,
  violations: [],
};

describe('renderChaosReport', () => {
  it('says what was broken, how long it took to recover, and that everything held', () => {
    expect(renderChaosReport(base)).toBe(
      '2 disruptions: order-service killed (SIGKILL) (recovered in 2.3 s), postgres refused for 4.0 s (recovered in 1.1 s)\n' +
        '12 orders accepted, 12 delivered; 7 client retries\n' +
        'every invariant held: each order delivered, charged once, its read model the fold of its events; stock exact; nothing in any DLQ but the poison\n',
    );
  });

  it('lists every violation', () => {
    const text = renderChaosReport({
      ...base,
      disruptions: [],
      delivered: 11,
      violations: ['o-1: PAYMENT_AUTHORIZED, not DELIVERED'],
    });
    expect(text).toContain('0 disruptions: none');
    expect(text).toContain('1 violations:\n  o-1: PAYMENT_AUTHORIZED, not DELIVERED\n');
  });
});
