import path from 'node:path';

export const SEED_USAGE = `Usage: pnpm --filter @dispatch/inventory-service seed [--file <catalogue.json>] [--reset]

Loads a catalogue into the inventory database (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE;
default database inventory_db), creating the database and its tables if needed. Idempotent.

  --file <path>  catalogue to load (default: the demo catalogue, src/seed/demo-catalogue.json)
  --reset        also set items that already exist back to the file's name, price, currency and
                 available count (reserved units are never touched); without it they are left alone
  --help         show this help`;

export interface SeedArgs {
  file?: string;
  reset: boolean;
  help: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses the CLI arguments. A relative --file is resolved against `cwd` (pnpm runs the script in the
 * package directory but reports where it was called from in INIT_CWD). Pure.
 */
export function parseSeedArgs(argv: readonly string[], cwd: string): SeedArgs {
  const args: SeedArgs = { reset: false, help: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--') continue; // pnpm may pass the separator through
    if (arg === '--reset') args.reset = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--file' || arg?.startsWith('--file=')) {
      const value = arg === '--file' ? argv[++i] : arg.slice('--file='.length);
      if (!value) throw new UsageError('--file needs a path');
      if (args.file) throw new UsageError('--file given twice');
      args.file = path.resolve(cwd, value);
    } else throw new UsageError(`unknown argument '${arg}'`);
  }
  return args;
}
