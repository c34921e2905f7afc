import type { BenchResult } from './run';
import { type LatencySummary, mebibytes, milliseconds } from './stats';

/** The result as Markdown tables, ready to paste into docs/benchmarks.md. */
export function renderReport(result: BenchResult): string {
  const { settings, machine } = result;
  const lines = [
    `${settings.orders} orders, ${settings.concurrency} in flight; ${machine.cpus} CPUs, ` +
      `${mebibytes(machine.memoryBytes)}, Node ${machine.node}; started ${result.startedAt}`,
    '',
    `Delivered ${result.delivered}/${settings.orders} in ${result.wallSeconds.toFixed(1)} s: ` +
      `${result.ordersPerSecond.toFixed(1)} orders/s.`,
    '',
    '| step | n | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
    latencyRow('POST /api/orders → 201', result.latencyMs.accept),
    latencyRow('POST → DELIVERY_ASSIGNED in query-api', result.latencyMs.placedToAssigned),
    latencyRow('complete → DELIVERED in query-api', result.latencyMs.completeToDelivered),
    '',
    '| service | RSS at start | peak RSS | RSS at end |',
    '|---|---:|---:|---:|',
    ...result.memory.map(
      (m) =>
        `| ${m.service} | ${mebibytes(m.startBytes)} | ${mebibytes(m.peakBytes)} | ${mebibytes(m.endBytes)} |`,
    ),
  ];
  if (result.failures.length > 0) {
    lines.push('', `${result.failures.length} orders failed:`);
    for (const failure of result.failures.slice(0, 10)) {
      lines.push(`  ${failure.orderId ?? '(no order id)'}: ${failure.reason}`);
    }
    if (result.failures.length > 10) lines.push(`  … and ${result.failures.length - 10} more (see --json)`);
  }
  return `${lines.join('\n')}\n`;
}

function latencyRow(step: string, summary: LatencySummary | undefined): string {
  if (!summary) return `| ${step} | 0 | – | – | – | – |`;
  const cells = [summary.p50, summary.p95, summary.p99, summary.max].map(milliseconds);
  return `| ${step} | ${summary.count} | ${cells.join(' | ')} |`;
}
