import type { Pool } from 'pg';

/** Index entries read per index of one table, and the table's sequential scans, during some work. */
export type TableReads = Record<string, number>;

/** The key under which `readsDuring` reports sequential scans (of the whole table). */
export const SEQUENTIAL_SCANS = 'sequential scans';

async function snapshot(pool: Pool, table: string): Promise<Map<string, number>> {
  // The counters of this backend reach the statistics when it goes idle after this statement.
  await pool.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await pool.query<{ name: string; n: string }>(
    `SELECT indexrelname AS name, idx_tup_read AS n FROM pg_stat_user_indexes WHERE relname = $1
     UNION ALL
     SELECT $2, seq_scan FROM pg_stat_user_tables WHERE relname = $1`,
    [table, SEQUENTIAL_SCANS],
  );
  return new Map(rows.map((r) => [r.name, Number(r.n)]));
}

/**
 * What `work` read of `table`: the index entries it read per index (`pg_stat_user_indexes
 * .idx_tup_read`) and how many sequential scans it ran, only the non-zero ones. `pool` must have a
 * single connection and be the only one `work` uses: PostgreSQL counts per backend and publishes a
 * backend's counts when it is told to flush (PostgreSQL 15+), so other connections' reads are not
 * seen, or seen late.
 */
export async function readsDuring(
  pool: Pool,
  table: string,
  work: () => Promise<unknown>,
): Promise<TableReads> {
  if (pool.options.max !== 1) throw new Error('readsDuring needs a pool of exactly one connection');
  const before = await snapshot(pool, table);
  await work();
  const after = await snapshot(pool, table);
  const reads: TableReads = {};
  for (const [name, n] of after) {
    const delta = n - (before.get(name) ?? 0);
    if (delta > 0) reads[name] = delta;
  }
  return reads;
}
