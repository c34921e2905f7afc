import type { ClientName } from './args';
import { type KafkaClientsReport, mean, type RunResult, ratio } from './results';

/** The kafka-clients benchmark: the report as text. */

const fmt = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const fmtRatio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

/** One metric: how it is read off a run, its label, its decimals. */
interface Metric {
  label: string;
  digits: number;
  get(run: RunResult): number | null | undefined;
}

export const METRICS: Metric[] = [
  { label: 'produce msg/s', digits: 0, get: (r) => r.produce.perSecond },
  { label: 'produce CPU ms/1k', digits: 1, get: (r) => r.produce.cpuMsPer1k },
  { label: 'broker CPU ms/1k (produce)', digits: 1, get: (r) => r.produce.brokerCpuMsPer1k },
  { label: 'consume msg/s', digits: 0, get: (r) => r.consume.perSecond },
  { label: 'consumer start → 1st msg ms', digits: 0, get: (r) => r.consume.firstMessageMs },
  { label: 'consume CPU ms/1k', digits: 1, get: (r) => r.consume.cpuMsPer1k },
  { label: 'broker CPU ms/1k (consume)', digits: 1, get: (r) => r.consume.brokerCpuMsPer1k },
  { label: 'commits (mean batch)', digits: 0, get: (r) => r.consume.commits },
  { label: 'latency p50 ms', digits: 1, get: (r) => r.latency?.p50 },
  { label: 'latency p99 ms', digits: 1, get: (r) => r.latency?.p99 },
  { label: 'probe send→ack p50 ms', digits: 1, get: (r) => r.latency?.ackP50 },
  { label: 'probes sent per s', digits: 0, get: (r) => r.latency?.achievedRate },
  { label: 'idle client CPU ms/s', digits: 2, get: (r) => r.idle?.clientCpuMsPerS },
  { label: 'idle client CPU, median 1-s slice', digits: 2, get: (r) => r.idle?.clientCpuMsPerSMedianSlice },
  { label: 'idle broker CPU ms/s', digits: 1, get: (r) => r.idle?.brokerCpuMsPerS },
  { label: 'idle broker CPU, median 1-s slice', digits: 1, get: (r) => r.idle?.brokerCpuMsPerSMedianSlice },
  { label: 'idle TCP segments/s', digits: 1, get: (r) => r.idle?.segmentsPerS },
  { label: 'idle connections', digits: 0, get: (r) => r.idle?.connections },
  { label: 'RSS MiB', digits: 0, get: (r) => r.rssMiB },
];

function num(value: number | null | undefined): number {
  return value === null || value === undefined ? Number.NaN : value;
}

/** Per metric and client: the mean over the client's rounds, and its ratio to the reference client's. */
export function summarizeRuns(
  runs: readonly RunResult[],
  clients: readonly ClientName[],
): {
  reference: ClientName | undefined;
  rows: { label: string; byClient: { mean: number; ratio: number }[] }[];
} {
  const present = clients.filter((c) => runs.some((r) => r.client === c));
  const reference = present.includes('kafkajs') ? 'kafkajs' : present[0];
  const rows = METRICS.map((metric) => {
    const means = new Map(
      present.map((c) => [c, mean(runs.filter((r) => r.client === c).map((r) => num(metric.get(r))))]),
    );
    const ref = reference === undefined ? Number.NaN : means.get(reference)!;
    return {
      label: metric.label,
      byClient: present.map((c) => ({ mean: means.get(c)!, ratio: ratio(means.get(c)!, ref) })),
    };
  });
  return { reference, rows };
}

export function renderKafkaClientsReport(report: KafkaClientsReport): string {
  const out: string[] = [];
  const { args } = report;
  out.push(
    `Kafka clients: ${args.messages} × ${args.size} B, ${args.keys} keys, ${args.batch}/send, ` +
      `${args.partitions} partitions, latency ${args.latency} at ${args.rate}/s, idle ${args.idleS} s, ` +
      `${args.rounds} round(s); node ${report.node}, load ${report.loadavg.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const runs = [...report.runs].sort((a, b) => a.round - b.round);
  out.push('');
  out.push('Each run:');
  const header = ['metric', ...runs.map((r) => `${r.client} ${r.version} #${r.round}`)];
  const lines = METRICS.map((m) => [
    m.label,
    ...runs.map((r) =>
      m.label.startsWith('commits')
        ? `${r.consume.commits} (${fmt(r.consume.meanBatch)})`
        : fmt(m.get(r), m.digits),
    ),
  ]);
  out.push(...table(header, lines));
  const present = args.clients.filter((c) => runs.some((r) => r.client === c));
  const { reference, rows } = summarizeRuns(runs, present);
  if (present.length > 0) {
    out.push('');
    out.push(`Mean over rounds (ratio to ${reference}):`);
    out.push(
      ...table(
        ['metric', ...present],
        rows.map((row, i) => [
          row.label,
          ...row.byClient.map(({ mean: m, ratio: r }) => `${fmt(m, METRICS[i]!.digits)} (${fmtRatio(r)})`),
        ]),
      ),
    );
  }
  if (report.baselines.length > 0) {
    out.push('');
    out.push(
      `Broker baseline with no benchmark client (the rest of the stack idling): ${report.baselines
        .map((b) => `${fmt(b.brokerCpuMsPerS, 1)} ms/s`)
        .join(', ')}`,
    );
  }
  for (const f of report.failures) out.push(`FAILED: ${f.client} round ${f.round}: ${f.error}`);
  return `${out.join('\n')}\n`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ];
}
