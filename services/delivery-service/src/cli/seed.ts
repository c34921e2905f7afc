// Loads demo drivers: pnpm --filter @dispatch/delivery-service seed [-- --file <drivers.json>]
import path from 'node:path';
import { createLogger, parseConfig, pgConnection, pgEnv } from '@dispatch/platform';
import { z } from 'zod';
import { readSeedFile, SeedError, seedDrivers } from './seed-drivers';

const DEFAULT_FILE = path.resolve(__dirname, '../../seed/drivers.json');

const seedConfigSchema = z.object({
  ...pgEnv,
  PGDATABASE: z.string().min(1).default('delivery_db'),
  /** The seed file, unless --file is given. */
  SEED_DRIVERS_FILE: z.string().min(1).optional(),
  LOG_LEVEL: z.string().default('warn'),
});

function fileArgument(argv: string[]): string | undefined {
  const i = argv.indexOf('--file');
  if (i === -1) return undefined;
  const value = argv[i + 1];
  if (!value || value.startsWith('--')) throw new SeedError('--file needs a path');
  return value;
}

async function main(): Promise<void> {
  const config = parseConfig('delivery-service seed', seedConfigSchema, process.env);
  const file = path.resolve(fileArgument(process.argv.slice(2)) ?? config.SEED_DRIVERS_FILE ?? DEFAULT_FILE);
  const seed = await readSeedFile(file);
  const result = await seedDrivers(
    seed,
    { ...pgConnection(config), database: config.PGDATABASE },
    createLogger('delivery-service-seed', config.LOG_LEVEL),
  );
  process.stdout.write(
    `seeded ${seed.drivers.length} drivers from ${file} into ${result.database}: ` +
      `${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged\n`,
  );
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`delivery-service seed failed: ${message}\n`);
  process.exitCode = 1;
});
