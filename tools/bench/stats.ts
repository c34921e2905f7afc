/** Latency summary of one measured step, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Percentiles by the nearest-rank method: the smallest sample with at least p% of the samples at or
 * below it. No interpolation, so every reported value is a latency that was really measured.
 */
export function summarize(samplesMs: number[]): LatencySummary | undefined {
  if (samplesMs.length === 0) return undefined;
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}

/** Per service: resident memory at the start, its peak while sampling, and at the end (bytes). */
export interface MemorySummary {
  service: string;
  startBytes: number;
  peakBytes: number;
  endBytes: number;
  samples: number;
}

export class MemoryTracker {
  private readonly byService = new Map<string, MemorySummary>();

  record(service: string, bytes: number): void {
    const seen = this.byService.get(service);
    if (!seen) {
      this.byService.set(service, {
        service,
        startBytes: bytes,
        peakBytes: bytes,
        endBytes: bytes,
        samples: 1,
      });
      return;
    }
    seen.peakBytes = Math.max(seen.peakBytes, bytes);
    seen.endBytes = bytes;
    seen.samples += 1;
  }

  summaries(): MemorySummary[] {
    return [...this.byService.values()].sort((a, b) => a.service.localeCompare(b.service));
  }
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export function milliseconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/**
 * The open loop's latency summary, in milliseconds: nearest-rank p50, p99 and p99.9 over every
 * sample that was due, `missing` of which never arrived (timed out, or ended otherwise). Those rank
 * above every measured one, so a percentile that falls among them is null: "longer than we
 * waited", never a flattering number made of the orders that did arrive.
 */
export interface TailSummary {
  /** Measured samples. */
  count: number;
  /** Samples that never arrived. */
  missing: number;
  min: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  /** The largest measured sample (the missing ones are longer still). */
  max: number | null;
  mean: number | null;
}

export function tailSummary(samplesMs: number[], missing = 0): TailSummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const total = sorted.length + missing;
  const rank = (p: number): number | null => {
    if (total === 0) return null;
    // The epsilon keeps 99.9 % of 1000 at rank 999: in floating point it is 999.0000000000001.
    const index = Math.max(0, Math.ceil((p * total) / 100 - 1e-9) - 1);
    return index < sorted.length ? sorted[index]! : null;
  };
  const sum = sorted.reduce((acc, value) => acc + value, 0);
  return {
    count: sorted.length,
    missing,
    min: sorted.length > 0 ? sorted[0]! : null,
    p50: rank(50),
    p99: rank(99),
    p999: rank(99.9),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : null,
    mean: sorted.length > 0 ? sum / sorted.length : null,
  };
}
