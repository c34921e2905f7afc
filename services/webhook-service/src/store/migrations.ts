import path from 'node:path';

/** The service's SQL migrations (run by startService at start). */
export const MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');
