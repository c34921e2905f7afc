import type { CpuUsage } from './cpu';
import { HOLD_THRESHOLDS } from './holds';
import type { IdleResult, OpenLoopResult, StepResult } from './open-loop-results';
import { renderIdleReport, renderOpenLoopReport } from './open-report';
import { tailSummary } from './stats';

const machine = { cpus: 2, memoryBytes: 24 * 1024 ** 3, node: 'v20.19.0' };

const cpu: CpuUsage = {
  windowSeconds: 30,
  clockTicksPerSecond: 100,
  processes: [
    { name: 'order-service', pids: [41], cpuSeconds: 6, cores: 0.2, found: true, restarted: true },
    {
      name: 'postgres',
      pids: [2, 30, 31],
      cpuSeconds: 3,
      cores: 0.1,
      found: true,
      restarted: false,
      byDatabase: [
        { database: 'delivery_db', cpuSeconds: 1.8 },
        { database: 'order_db', cpuSeconds: 0.9 },
      ],
    },
    { name: 'kafka', pids: [], cpuSeconds: 0, cores: 0, found: false, restarted: false },
  ],
  totalSeconds: 9,
  totalCores: 0.3,
  machine: { busySeconds: 12, cores: 0.4 },
};

function step(overrides: Partial<StepResult> = {}): StepResult {
  return {
    offeredPerSecond: 10,
    durationS: 30,
    due: 300,
    sent: 300,
    clientDrops: 0,
    accepted: 298,
    acceptedPerSecond: 9.9,
    assignedPerSecond: 7.2,
    sampleFraction: 1,
    followed: 298,
    followOutcomes: { DELIVERY_ASSIGNED: 290, 'not assigned in time (last seen PAYMENT_AUTHORIZED)': 8 },
    answers: { '201': 298, '503': 2 },
    networkErrors: {},
    followRetries: { '404': 40 },
    latencyMs: {
      post: tailSummary([10, 20, 30]),
      saga: tailSummary([1_000, 3_000], 8),
      sendLag: tailSummary([1, 2]),
    },
    readModel: {
      reached: 290,
      backlog: 8,
      drainSeconds: 60.2,
      statuses: { DELIVERY_ASSIGNED: 290 },
      missing: ['o-1'],
    },
    failedOrders: 0,
    cpu,
    cpuMsPerOrder: {
      perProcess: { 'order-service': 20.1, postgres: 10, kafka: null },
      total: 30.2,
      perDatabase: { delivery_db: 6, order_db: 3 },
    },
    verdict: { holds: false, reasons: ['2 POSTs answered 5xx'] },
    cleanup: { completed: 290, notDelivered: 0 },
    ...overrides,
  };
}

function result(steps: StepResult[], highest: number | null): OpenLoopResult {
  return {
    mode: 'open',
    startedAt: '2026-12-01T10:00:00.000Z',
    settings: {
      rates: steps.map((s) => s.offeredPerSecond),
      durationS: 30,
      complete: false,
      drainTimeoutMs: 60_000,
      customers: 500,
      items: 8,
    },
    machine,
    thresholds: { ...HOLD_THRESHOLDS, drainTimeoutMs: 60_000 },
    steps,
    highestHoldingRate: highest,
    failures:
      highest === null
        ? ['10/s: 8 accepted orders not in the read model 60 s after the load (e.g. o-1)']
        : [],
  };
}

describe('renderOpenLoopReport', () => {
  it('has one summary row per step, the thresholds, the verdict and the failed check', () => {
    const text = renderOpenLoopReport(result([step()], null));
    expect(text).toContain('A rate holds when: accepted/s and DELIVERY_ASSIGNED/s ≥ 95 % of offered;');
    expect(text).toContain('| 10 | 9.9 | 7.2 | 20 ms / 30 ms / 30 ms | ∞ / ∞ / ∞ | 503×2 | 8 | 30 | no |');
    expect(text).toContain('None of the rates holds.');
    expect(text).toContain('POST answers: 201 ×298, 503 ×2; without an answer: none.');
    expect(text).toContain('| due → DELIVERY_ASSIGNED in query-api | 2 | 8 | ∞ | ∞ | ∞ | 3000 ms |');
    expect(text).toContain(
      '∞: the percentile falls among orders that did not get there before the wait ended.',
    );
    expect(text).toContain('Does not hold: 2 POSTs answered 5xx.');
    expect(text).toContain('The run fails its check:\n  10/s: 8 accepted orders not in the read model');
  });

  it('prints CPU per process, per order, restarts and processes it did not find', () => {
    const text = renderOpenLoopReport(result([step()], null));
    expect(text).toContain('| order-service (restarted: new process only) | 41 | 6.00 | 0.200 | 20.1 |');
    expect(text).toContain('| postgres | 3 processes | 3.00 | 0.100 | 10.0 |');
    expect(text).toContain('| kafka | not found | – | – | – |');
    expect(text).toContain('| **all of the above** | | 9.00 | 0.300 | 30.2 |');
    expect(text).toContain('| everything else on the machine | | 3.00 | 0.100 | |');
    expect(text).toContain('| whole machine (/proc/stat) | | 12.00 | 0.400 | |');
    expect(text).toContain(
      "PostgreSQL's backends by database: delivery_db 1.80 s, 6.0 ms/order; order_db 0.90 s, 3.0 ms/order (the rest",
    );
  });

  it('names the highest rate that holds', () => {
    const held = step({ offeredPerSecond: 5, verdict: { holds: true, reasons: [] } });
    const text = renderOpenLoopReport(result([held, step()], 5));
    expect(text).toContain('Highest rate that holds: 5 orders/s.');
    expect(text).toContain('Holds.');
    expect(text).not.toContain('The run fails its check');
  });

  it('says whether the steps came after a warm-up', () => {
    const plain = result([step()], null);
    expect(renderOpenLoopReport(plain)).toContain('Open loop: 10 orders/s offered, 30 s each; every order');
    const warmed = { ...plain, settings: { ...plain.settings, warmupS: 60 } };
    expect(renderOpenLoopReport(warmed)).toContain(
      'Open loop: 10 orders/s offered, 30 s each (after 60 s of unreported warm-up at 10/s); every order',
    );
  });
});

describe('renderIdleReport', () => {
  it('prints cores per process without a per-order column', () => {
    const idle: IdleResult = {
      mode: 'idle',
      startedAt: '2026-12-01T10:00:00.000Z',
      settings: { durationS: 30 },
      machine,
      cpu,
    };
    const text = renderIdleReport(idle);
    expect(text).toContain('Idle stack for 30 s; 2 CPUs');
    expect(text).toContain('| process | pid | CPU s | cores |\n|---|---|---:|---:|');
    expect(text).toContain('| postgres | 3 processes | 3.00 | 0.100 |');
    expect(text).toContain('| **all of the above** | | 9.00 | 0.300 |');
  });
});
