import type { CpuUsage } from './cpu';
import { describeThresholds } from './holds';
import type { IdleResult, OpenLoopResult, StepResult } from './open-loop-results';
import { mebibytes, milliseconds, type TailSummary } from './stats';

/** The open loop's and the idle measurement's results as Markdown tables, ready for docs/benchmarks.md. */

const MISSING = '∞';

export function renderOpenLoopReport(result: OpenLoopResult): string {
  const { settings, machine } = result;
  const followed =
    settings.sampleFraction === undefined
      ? 'every order up to 20/s followed'
      : `${formatPercent(settings.sampleFraction)} of the orders followed`;
  const lines = [
    `Open loop: ${settings.rates.join(', ')} orders/s offered, ${settings.durationS} s each` +
      `${settings.warmupS ? ` (after ${settings.warmupS} s of unreported warm-up at ${settings.rates[0]}/s)` : ''}; ${followed}` +
      `${settings.complete ? ' and completed' : ''}; ${settings.customers} customers, ${settings.items} items; ` +
      `${machine.cpus} CPUs, ${mebibytes(machine.memoryBytes)}, Node ${machine.node}; started ${result.startedAt}`,
    '',
    `A rate holds when: ${describeThresholds(result.thresholds, result.thresholds.drainTimeoutMs)}.`,
    '',
    '| offered/s | accepted/s | DELIVERY_ASSIGNED/s | POST p50 / p99 / p99.9 | saga p50 / p99 / p99.9 | errors | backlog | CPU ms/order | holds |',
    '|---:|---:|---:|---|---|---|---:|---:|---|',
    ...result.steps.map(
      (step) =>
        `| ${step.offeredPerSecond} | ${step.acceptedPerSecond.toFixed(1)} | ${step.assignedPerSecond.toFixed(1)} | ` +
        `${tail(step.latencyMs.post)} | ${tail(step.latencyMs.saga)} | ${errorsOf(step)} | ${step.readModel.backlog} | ` +
        `${step.cpuMsPerOrder?.total == null ? '–' : step.cpuMsPerOrder.total.toFixed(0)} | ${step.verdict.holds ? 'yes' : 'no'} |`,
    ),
    '',
    result.highestHoldingRate === null
      ? 'None of the rates holds.'
      : `Highest rate that holds: ${result.highestHoldingRate} orders/s.`,
  ];
  for (const step of result.steps) lines.push('', ...renderStep(step));
  if (hasMissing(result.steps)) {
    lines.push(
      '',
      `${MISSING}: the percentile falls among orders that did not get there before the wait ended.`,
    );
  }
  if (result.failures.length > 0) {
    lines.push('', 'The run fails its check:', ...result.failures.map((f) => `  ${f}`));
  }
  return `${lines.join('\n')}\n`;
}

function renderStep(step: StepResult): string[] {
  const lines = [
    `### ${step.offeredPerSecond} orders/s for ${step.durationS} s`,
    '',
    `${step.due} due, ${step.sent} sent, ${step.clientDrops} dropped by the client, ${step.accepted} accepted (201): ` +
      `${step.acceptedPerSecond.toFixed(1)}/s accepted, ${step.assignedPerSecond.toFixed(1)}/s reached DELIVERY_ASSIGNED.`,
    `POST answers: ${countsOf(step.answers) || 'none'}; without an answer: ${countsOf(step.networkErrors) || 'none'}.`,
    `Followed ${step.followed} (${formatPercent(step.sampleFraction)}): ${countsOf(step.followOutcomes) || 'none'}` +
      `${Object.keys(step.followRetries).length > 0 ? `; stream retries: ${countsOf(step.followRetries)}` : ''}.`,
    '',
    '| latency | n | missing | p50 | p99 | p99.9 | max |',
    '|---|---:|---:|---:|---:|---:|---:|',
    latencyRow('due → POST 201', step.latencyMs.post),
    latencyRow('due → DELIVERY_ASSIGNED in query-api', step.latencyMs.saga),
    ...(step.latencyMs.completeToDelivered
      ? [latencyRow('complete → DELIVERED in query-api', step.latencyMs.completeToDelivered)]
      : []),
    latencyRow('due → sent (client lag)', step.latencyMs.sendLag),
    '',
    `Read model: ${step.readModel.reached}/${step.accepted} accepted orders at DELIVERY_ASSIGNED or a terminal status ` +
      `${step.readModel.drainSeconds.toFixed(1)} s after the load (${countsOf(step.readModel.statuses) || 'none'}); ` +
      `backlog ${step.readModel.backlog}${step.readModel.missing.length > 0 ? ` (e.g. ${step.readModel.missing.slice(0, 3).join(', ')})` : ''}.`,
  ];
  if (step.cleanup.completed > 0) {
    lines.push(
      `Clean-up after the measurement: ${step.cleanup.completed} deliveries completed` +
        `${step.cleanup.notDelivered > 0 ? `, ${step.cleanup.notDelivered} not DELIVERED in time` : ''}.`,
    );
  }
  if (step.cpu)
    lines.push(
      '',
      ...cpuTable(
        step.cpu,
        step.cpuMsPerOrder?.perProcess,
        step.cpuMsPerOrder?.total,
        step.cpuMsPerOrder?.perDatabase,
      ),
    );
  lines.push('', step.verdict.holds ? 'Holds.' : `Does not hold: ${step.verdict.reasons.join('; ')}.`);
  return lines;
}

export function renderIdleReport(result: IdleResult): string {
  const { machine } = result;
  return `${[
    `Idle stack for ${result.settings.durationS} s; ${machine.cpus} CPUs, ${mebibytes(machine.memoryBytes)}, ` +
      `Node ${machine.node}; started ${result.startedAt}`,
    '',
    ...cpuTable(result.cpu),
  ].join('\n')}\n`;
}

/** Per process: CPU seconds in the window, cores (CPU s / window s) and, with orders, CPU ms per order. */
export function cpuTable(
  cpu: CpuUsage,
  perOrder?: Record<string, number | null>,
  totalPerOrder?: number | null,
  perDatabase?: Record<string, number | null>,
): string[] {
  const withOrders = perOrder !== undefined;
  const header = withOrders
    ? ['| process | pid | CPU s | cores | CPU ms/order |', '|---|---|---:|---:|---:|']
    : ['| process | pid | CPU s | cores |', '|---|---|---:|---:|'];
  const perOrderCell = (value: number | null | undefined) =>
    withOrders ? ` ${value == null ? '–' : value.toFixed(1)} |` : '';
  const rows = cpu.processes.map((p) => {
    if (!p.found) return `| ${p.name} | not found | – | – |${withOrders ? ' – |' : ''}`;
    const pid = p.pids.length === 1 ? String(p.pids[0]) : `${p.pids.length} processes`;
    return (
      `| ${p.name}${p.restarted ? ' (restarted: new process only)' : ''} | ${pid} | ${p.cpuSeconds.toFixed(2)} | ` +
      `${p.cores.toFixed(3)} |${perOrderCell(perOrder?.[p.name])}`
    );
  });
  const lines = [
    `CPU during the ${cpu.windowSeconds.toFixed(1)} s window (/proc, ${cpu.clockTicksPerSecond} ticks/s):`,
    '',
    ...header,
    ...rows,
    `| **all of the above** | | ${cpu.totalSeconds.toFixed(2)} | ${cpu.totalCores.toFixed(3)} |${perOrderCell(totalPerOrder)}`,
  ];
  if (cpu.machine) {
    // What the machine did besides: other users' processes, the kernel's own threads.
    const otherSeconds = Math.max(0, cpu.machine.busySeconds - cpu.totalSeconds);
    const otherCores = cpu.windowSeconds > 0 ? otherSeconds / cpu.windowSeconds : 0;
    lines.push(
      `| everything else on the machine | | ${otherSeconds.toFixed(2)} | ${otherCores.toFixed(3)} |${withOrders ? ' |' : ''}`,
      `| whole machine (/proc/stat) | | ${cpu.machine.busySeconds.toFixed(2)} | ${cpu.machine.cores.toFixed(3)} |` +
        `${withOrders ? ' |' : ''}`,
    );
  }
  const byDatabase = cpu.processes.find((p) => p.byDatabase)?.byDatabase;
  if (byDatabase) {
    const perOrderText = (database: string) => {
      const value = perDatabase?.[database];
      return value == null ? '' : `, ${value.toFixed(1)} ms/order`;
    };
    lines.push(
      '',
      `PostgreSQL's backends by database: ${byDatabase
        .map((d) => `${d.database} ${d.cpuSeconds.toFixed(2)} s${perOrderText(d.database)}`)
        .join('; ')} (the rest of postgres is the server's own processes and backends that ended).`,
    );
  }
  return lines;
}

function tail(summary: TailSummary): string {
  if (summary.count === 0 && summary.missing === 0) return '–';
  return [summary.p50, summary.p99, summary.p999].map(cell).join(' / ');
}

function latencyRow(step: string, summary: TailSummary): string {
  const cells = [summary.p50, summary.p99, summary.p999, summary.max].map(cell);
  return `| ${step} | ${summary.count} | ${summary.missing} | ${cells.join(' | ')} |`;
}

function cell(value: number | null): string {
  return value === null ? MISSING : milliseconds(value);
}

function hasMissing(steps: StepResult[]): boolean {
  return steps.some((s) =>
    [s.latencyMs.post, s.latencyMs.saga].some((t) => [t.p50, t.p99, t.p999].includes(null) && t.missing > 0),
  );
}

/** POST problems, compactly: every answer but 201 by status, every error by code, drops. */
function errorsOf(step: StepResult): string {
  const parts = [
    ...Object.entries(step.answers)
      .filter(([status]) => status !== '201')
      .map(([status, n]) => `${status}×${n}`),
    ...Object.entries(step.networkErrors).map(([code, n]) => `${code}×${n}`),
    ...(step.clientDrops > 0 ? [`dropped×${step.clientDrops}`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function countsOf(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key} ×${n}`)
    .join(', ');
}

function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)} %`;
}
