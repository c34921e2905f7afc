import { readFile } from 'node:fs/promises';
import {
  createPool,
  ensureDatabase,
  type Logger,
  type PgConfig,
  runMigrations,
  withTransaction,
} from '@dispatch/platform';
import { z } from 'zod';
import { DRIVER_STATUSES } from '../domain/delivery';
import { driverIdSchema } from '../http/schemas';
import { MIGRATIONS_DIR } from '../service';
import { lockDrivers, upsertDriver } from '../store/drivers';

/** The seed file: `{ "drivers": [{ "driverId", "name", "status": "AVAILABLE" | "OFF_DUTY" }] }`. */
export const seedFileSchema = z
  .object({
    drivers: z
      .array(
        z.object({
          driverId: driverIdSchema,
          name: z.string().trim().min(1).max(200),
          status: z.enum(DRIVER_STATUSES),
        }),
      )
      .min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.drivers.forEach((driver, index) => {
      if (seen.has(driver.driverId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['drivers', index, 'driverId'],
          message: `duplicate driverId '${driver.driverId}'`,
        });
      }
      seen.add(driver.driverId);
    });
  });

export type SeedFile = z.output<typeof seedFileSchema>;

/** Why seeding failed, in words an operator can act on. */
export class SeedError extends Error {
  override readonly name = 'SeedError';
}

/** Reads and validates a seed file; every problem is named (file, JSON, each bad field). */
export async function readSeedFile(file: string): Promise<SeedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SeedError(
      code === 'ENOENT' ? `seed file not found: ${file}` : `cannot read seed file ${file}: ${String(err)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeedError(
      `seed file ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const parsed = seedFileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  - ${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new SeedError(`seed file ${file} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export interface SeedResult {
  database: string;
  created: number;
  updated: number;
  unchanged: number;
}

/**
 * Loads the drivers into the database (created, and migrated, if needed), in one transaction.
 * Idempotent: a driver is created or replaced exactly like PUT /api/drivers/{id} does, so running it
 * again changes nothing, and a driver on a delivery keeps it.
 */
export async function seedDrivers(seed: SeedFile, pg: PgConfig, logger: Logger): Promise<SeedResult> {
  try {
    await ensureDatabase({ ...pg, database: 'postgres' }, pg.database);
  } catch (err) {
    throw new SeedError(
      `cannot reach PostgreSQL at ${pg.host}:${pg.port} as ${pg.user}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const pool = createPool({ ...pg, applicationName: 'delivery-service-seed', max: 2 }, logger);
  try {
    await runMigrations({ pool, logger, dir: MIGRATIONS_DIR });
    const now = new Date();
    const result: SeedResult = { database: pg.database, created: 0, updated: 0, unchanged: 0 };
    await withTransaction(pool, async (tx) => {
      result.created = result.updated = result.unchanged = 0; // the transaction may be retried
      // The existing drivers first, all at once in driverId order like a consumer batch takes the
      // drivers it frees, so the upserts below, in file order, never wait while holding one it waits for.
      await lockDrivers(
        tx,
        seed.drivers.map((d) => d.driverId),
      );
      for (const driver of seed.drivers) {
        const { outcome } = await upsertDriver(tx, driver, now);
        result[outcome] += 1;
      }
    });
    return result;
  } finally {
    await pool.end();
  }
}
