import { renderReport } from './report';
import type { BenchResult } from './run';
import { summarize } from './stats';

const MiB = 1024 * 1024;

function result(overrides: Partial<BenchResult> = {}): BenchResult {
  return {
    startedAt: '2026-11-21T10:00:00.000Z',
    settings: { orders: 3, concurrency: 2, orderTimeoutMs: 120_000 },
    machine: { cpus: 2, memoryBytes: 24 * 1024 * MiB, node: 'v20.19.0' },
    wallSeconds: 1.5,
    ordersPerSecond: 2,
    delivered: 3,
    failures: [],
    latencyMs: {
      accept: summarize([10, 20, 30]),
      placedToAssigned: summarize([100, 200, 12_000]),
      completeToDelivered: summarize([40, 50, 60]),
    },
    memory: [
      {
        service: 'order-service',
        startBytes: 100 * MiB,
        peakBytes: 150 * MiB,
        endBytes: 120 * MiB,
        samples: 3,
      },
    ],
    ...overrides,
  };
}

describe('renderReport', () => {
  it('prints settings, throughput, a latency table and a memory table', () => {
    const text = renderReport(result());
    expect(text).toContain('3 orders, 2 in flight; 2 CPUs, 24576 MiB, Node v20.19.0');
    expect(text).toContain('Delivered 3/3 in 1.5 s: 2.0 orders/s.');
    expect(text).toContain('| POST /api/orders → 201 | 3 | 20 ms | 30 ms | 30 ms | 30 ms |');
    expect(text).toContain(
      '| POST → DELIVERY_ASSIGNED in query-api | 3 | 200 ms | 12.0 s | 12.0 s | 12.0 s |',
    );
    expect(text).toContain('| order-service | 100 MiB | 150 MiB | 120 MiB |');
    expect(text).not.toContain('failed');
  });

  it('lists the first ten failures and counts the rest', () => {
    const failures = Array.from({ length: 12 }, (_, i) => ({
      orderId: `o-${i}`,
      reason: 'ended PAYMENT_FAILED',
    }));
    const text = renderReport(
      result({
        delivered: 0,
        failures,
        latencyMs: { accept: undefined, placedToAssigned: undefined, completeToDelivered: undefined },
      }),
    );
    expect(text).toContain('| complete → DELIVERED in query-api | 0 | – | – | – | – |');
    expect(text).toContain('12 orders failed:');
    expect(text).toContain('  o-9: ended PAYMENT_FAILED');
    expect(text).not.toContain('o-10:');
    expect(text).toContain('… and 2 more (see --json)');
  });
});
