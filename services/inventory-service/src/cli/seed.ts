import { readFileSync } from 'node:fs';
import {
  ConfigError,
  createLogger,
  createPool,
  ensureDatabase,
  parseConfig,
  pgConnection,
  runMigrations,
} from '@dispatch/platform';
import { inventoryDatabaseSchema, SERVICE_NAME } from '../config';
import { CatalogueFileError, DEMO_CATALOGUE_PATH, parseCatalogue, seedCatalogue } from '../seed/seed';
import { MIGRATIONS_DIR } from '../store/migrations';
import { parseSeedArgs, SEED_USAGE, UsageError } from './seed-args';

/**
 * `pnpm --filter @dispatch/inventory-service seed`: loads the demo (or a given) catalogue.
 * Exit codes: 0 done, 1 failed (file, database), 2 bad arguments, 78 bad configuration.
 */
async function main(): Promise<number> {
  let args: ReturnType<typeof parseSeedArgs>;
  try {
    args = parseSeedArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`seed: ${err.message}\n\n${SEED_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${SEED_USAGE}\n`);
    return 0;
  }

  const config = parseConfig(`${SERVICE_NAME} seed`, inventoryDatabaseSchema, process.env);
  const file = args.file ?? DEMO_CATALOGUE_PATH;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`seed: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const items = parseCatalogue(text, file);

  const connection = pgConnection(config);
  const where = `PostgreSQL at ${config.PGHOST}:${config.PGPORT}, database ${config.PGDATABASE}`;
  try {
    await ensureDatabase({ ...connection, database: 'postgres' }, config.PGDATABASE);
  } catch (err) {
    process.stderr.write(
      `seed: cannot reach ${where} (check PGHOST/PGPORT/PGUSER/PGPASSWORD): ` +
        `${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
  const logger = createLogger(`${SERVICE_NAME}-seed`, process.env.LOG_LEVEL ?? 'warn');
  const pool = createPool({ ...connection, database: config.PGDATABASE, max: 2 }, logger);
  try {
    await runMigrations({ pool, logger, dir: MIGRATIONS_DIR });
    const result = await seedCatalogue(pool, items, { reset: args.reset });
    const parts = [`${result.created.length} created`];
    if (args.reset) parts.push(`${result.reset.length} reset to the file's values`);
    else parts.push(`${result.unchanged.length} already present (left as they are; --reset to restore them)`);
    process.stdout.write(`seed: ${items.length} items from ${file} into ${where}: ${parts.join(', ')}\n`);
    return 0;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof CatalogueFileError) {
      process.stderr.write(`seed: ${err.message}\n`);
      process.exit(err instanceof ConfigError ? 78 : 1);
    }
    process.stderr.write(`seed failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
