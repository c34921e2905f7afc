import type { TailSummary } from '../stats';

import type { ClientName, KafkaClientsArgs } from './args';

/** The kafka-clients benchmark: what a run measures and reports, and the pure helpers it measures with. */

// Pure helpers (unit-tested)

/** utime + stime (fields 14 and 15) of /proc/<pid>/stat, in clock ticks; counted from the last ')'. */
export function parseUtimeStime(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // After ')': field 3 (state) is index 0, so field n is index n - 3.
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || fields.length < 13) return undefined;
  return utime + stime;
}

/**
 * From `ss -tinpH state established` output: the TCP connections of `pid` to any of `ports`, and their
 * data segments sent and received so far (at idle, one request or response is about one segment).
 */
export function parseSsSegments(
  text: string,
  pid: number,
  ports: readonly number[],
): { connections: number; dataSegsOut: number; dataSegsIn: number } {
  const result = { connections: 0, dataSegsOut: 0, dataSegsIn: 0 };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (!line.includes(`pid=${pid},`)) continue;
    const peerPort = Number(/\s\S+:(\d+)\s+users:/.exec(line)?.[1]);
    if (!ports.includes(peerPort)) continue;
    // The counters are on the same line or on the next, indented one.
    const info = /data_segs_out:/.test(line) ? line : (lines[i + 1] ?? '');
    result.connections += 1;
    result.dataSegsOut += Number(/data_segs_out:(\d+)/.exec(info)?.[1] ?? 0);
    result.dataSegsIn += Number(/data_segs_in:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return result;
}

const BULK = 0x42; // 'B'
const PROBE = 0x4c; // 'L'

/** A message value of `size` bytes: a marker byte (bulk or latency probe), a 32-bit id, filler. */
export function encodeValue(kind: 'bulk' | 'probe', id: number, size: number): Buffer {
  const value = Buffer.alloc(size, 0x2e);
  value[0] = kind === 'bulk' ? BULK : PROBE;
  value.writeUInt32BE(id >>> 0, 1);
  return value;
}

export function decodeValue(
  value: Buffer | null | undefined,
): { kind: 'bulk' | 'probe'; id: number } | undefined {
  if (!value || value.length < 5) return undefined;
  if (value[0] !== BULK && value[0] !== PROBE) return undefined;
  return { kind: value[0] === BULK ? 'bulk' : 'probe', id: value.readUInt32BE(1) };
}

/** CPU milliseconds per 1000 messages. */
export function cpuPer1k(cpuMs: number, messages: number): number {
  return messages > 0 ? (cpuMs * 1000) / messages : Number.NaN;
}

export function mean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

/** The middle value (mean of the two middle ones for an even count), NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** value / reference, NaN when either is missing or the reference is 0. */
export function ratio(value: number, reference: number): number {
  return Number.isFinite(value) && Number.isFinite(reference) && reference !== 0
    ? value / reference
    : Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface PhaseResult {
  messages: number;
  wallMs: number;
  perSecond: number;
  cpuMs: number;
  cpuMsPer1k: number;
  /** Broker JVM CPU in the same window, per 1000 messages (includes the rest of the stack's load). */
  brokerCpuMsPer1k: number | null;
}

export interface RunResult {
  client: ClientName;
  version: string;
  round: number;
  topic: string;
  produce: PhaseResult & { sends: number };
  consume: PhaseResult & {
    /** From the consumer's start (connect, join, first fetch) to its first message. */
    firstMessageMs: number;
    commits: number;
    meanBatch: number;
  };
  latency:
    | (TailSummary & {
        sent: number;
        /** Probes per second asked for, and sent (lower when a send's round trip exceeds the interval). */
        rate: number;
        achievedRate: number;
        /** Median time from send() to its acknowledgement. */
        ackP50: number | null;
        sendErrors: number;
      })
    | null;
  idle: {
    seconds: number;
    clientCpuMsPerS: number;
    brokerCpuMsPerS: number | null;
    /** The median of the window's one-second slices. */
    clientCpuMsPerSMedianSlice: number;
    brokerCpuMsPerSMedianSlice: number | null;
    /** TCP connections to the broker, and data segments per second both ways (≈ requests + responses). */
    connections: number | null;
    segmentsPerS: number | null;
  } | null;
  rssMiB: number;
}

export interface BaselineResult {
  round: number;
  seconds: number;
  brokerCpuMsPerS: number | null;
}

export interface KafkaClientsReport {
  startedAt: string;
  node: string;
  loadavg: number[];
  args: Omit<KafkaClientsArgs, 'json'>;
  brokerPid: number | null;
  runs: RunResult[];
  /** The broker's CPU with none of the benchmark's clients connected (the stack's own idle load). */
  baselines: BaselineResult[];
  failures: { client: ClientName; round: number; error: string }[];
}
