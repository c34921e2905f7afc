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
