/** One dependency a service needs to do its work (its database, Redis, Kafka, ...). */
export interface HealthCheck {
  name: string;
  /** Resolves when the dependency answers; throws otherwise. */
  check(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: 'ok' | 'unavailable'; durationMs: number; error?: string }>;
}

/** Runs all checks concurrently, each bounded by a timeout so a hung dependency reads as down. */
export async function runHealthChecks(checks: HealthCheck[], timeoutMs = 2_000): Promise<HealthReport> {
  const entries = await Promise.all(
    checks.map(async (c) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [
          c.name,
          { status: 'ok' as const, durationMs: Math.round(performance.now() - started) },
        ] as const;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return [
          c.name,
          { status: 'unavailable' as const, durationMs: Math.round(performance.now() - started), error },
        ] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const report: HealthReport = { status: 'ok', checks: {} };
  for (const [name, result] of entries) {
    report.checks[name] = result;
    if (result.status !== 'ok') report.status = 'unavailable';
  }
  return report;
}

/** Ready when a trivial query round-trips through the pool. */
export function pgHealthCheck(
  pool: { query(sql: string): Promise<unknown> },
  name = 'postgres',
): HealthCheck {
  return { name, check: async () => void (await pool.query('SELECT 1')) };
}
