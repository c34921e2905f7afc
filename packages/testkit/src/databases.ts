import pg from 'pg';
import { stackAddresses } from './stack';

/** Drops a test's own database, ending any session still connected to it (PostgreSQL 13+). */
export async function dropTestDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ ...stackAddresses().pg, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
