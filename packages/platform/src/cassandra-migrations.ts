import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, types } from 'cassandra-driver';
import { type CassandraConfig, createCassandraClient } from './cassandra';
import type { Logger } from './logger';

/**
 * Versioned CQL migrations for a Cassandra keyspace.
 *
 * Files are named `NNN_name.cql` (three or more digits, then a lower_snake name) and applied in
 * version order, each once, recorded in `<keyspace>.schema_migrations` with a checksum so an edited,
 * already-applied file is noticed. The keyspace is created if missing. A run holds a lease in
 * `<keyspace>.schema_migrations_lock` (a lightweight transaction with a TTL), so instances starting
 * together apply the schema one at a time instead of racing DDL.
 *
 * Cassandra DDL is not transactional: a migration that fails half-way leaves its first statements
 * applied and is retried whole on the next run. Write statements that can run twice
 * (`CREATE TABLE IF NOT EXISTS`, `ALTER TABLE … ADD` only in a migration of its own).
 */

export class CassandraMigrationError extends Error {
  override readonly name = 'CassandraMigrationError';
}

export type KeyspaceReplication =
  | { class: 'SimpleStrategy'; replicationFactor: number }
  | { class: 'NetworkTopologyStrategy'; dataCenters: Record<string, number> };

export interface CassandraMigration {
  version: number;
  /** `NNN_name.cql` */
  fileName: string;
  /** sha256 of the file's text. */
  checksum: string;
  statements: string[];
}

export interface AppliedMigration {
  version: number;
  fileName: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9][a-z0-9_]*)\.cql$/;
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const DATA_CENTER = /^[A-Za-z0-9_.-]{1,100}$/;

/** Throws unless `name` is a valid unquoted Cassandra keyspace or table name (max 48 characters). */
export function assertCqlIdentifier(name: string, what = 'identifier'): void {
  if (!IDENTIFIER.test(name)) {
    throw new CassandraMigrationError(
      `invalid ${what} '${name}': expected a letter then letters, digits or _ (at most 48 characters)`,
    );
  }
}

/** `{version, name}` of a migration file name, or undefined when it does not follow `NNN_name.cql`. */
export function parseMigrationFileName(fileName: string): { version: number; name: string } | undefined {
  const match = FILE_PATTERN.exec(fileName);
  if (!match?.[1] || !match[2]) return undefined;
  return { version: Number(match[1]), name: match[2] };
}

/**
 * Splits CQL text into statements at `;`, ignoring semicolons inside 'strings' (with '' escapes),
 * "quoted identifiers", $$dollar strings$$ and comments (`--`, `//`, `/* … *\/`). Comments are
 * dropped; empty statements are skipped. Throws on an unterminated string or comment.
 */
export function splitCqlStatements(source: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const lineAt = (index: number) => source.slice(0, index).split('\n').length;
  const flush = () => {
    const statement = current.trim();
    if (statement !== '') statements.push(statement);
    current = '';
  };
  /** Copies a quoted run starting at i (the opening quote) up to its closing quote; doubled quotes escape. */
  const copyQuoted = (quote: string) => {
    const start = i;
    current += quote;
    i += 1;
    for (;;) {
      if (i >= source.length) {
        throw new CassandraMigrationError(
          `unterminated ${quote}-quoted text starting on line ${lineAt(start)}`,
        );
      }
      const ch = source[i];
      if (ch === quote && source[i + 1] === quote) {
        current += quote + quote;
        i += 2;
      } else if (ch === quote) {
        current += quote;
        i += 1;
        return;
      } else {
        current += ch;
        i += 1;
      }
    }
  };

  while (i < source.length) {
    const ch = source[i] as string;
    const two = source.slice(i, i + 2);
    if (ch === "'" || ch === '"') {
      copyQuoted(ch);
    } else if (two === '$$') {
      const end = source.indexOf('$$', i + 2);
      if (end < 0) throw new CassandraMigrationError(`unterminated $$ string starting on line ${lineAt(i)}`);
      current += source.slice(i, end + 2);
      i = end + 2;
    } else if (two === '--' || two === '//') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
      current += ' ';
    } else if (two === '/*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new CassandraMigrationError(`unterminated /* comment starting on line ${lineAt(i)}`);
      i = end + 2;
      current += ' ';
    } else if (ch === ';') {
      flush();
      i += 1;
    } else {
      current += ch;
      i += 1;
    }
  }
  flush();
  return statements;
}

/**
 * Turns migration files into the ordered list to apply. Pure. Files not ending in `.cql` are
 * ignored; a `.cql` file with a bad name, two files with one version, or a file with no statements
 * is an error (a typo must not silently skip a migration).
 */
export function planMigrations(files: { fileName: string; source: string }[]): CassandraMigration[] {
  const problems: string[] = [];
  const byVersion = new Map<number, CassandraMigration>();
  for (const { fileName, source } of files) {
    if (!fileName.endsWith('.cql')) continue;
    const parsed = parseMigrationFileName(fileName);
    if (!parsed) {
      problems.push(`${fileName}: expected a name like 001_create_orders.cql`);
      continue;
    }
    const other = byVersion.get(parsed.version);
    if (other) {
      problems.push(`${fileName}: version ${parsed.version} is also used by ${other.fileName}`);
      continue;
    }
    let statements: string[];
    try {
      statements = splitCqlStatements(source);
    } catch (err) {
      problems.push(`${fileName}: ${(err as Error).message}`);
      continue;
    }
    if (statements.length === 0) {
      problems.push(`${fileName}: contains no statements`);
      continue;
    }
    const checksum = createHash('sha256').update(source).digest('hex');
    byVersion.set(parsed.version, { version: parsed.version, fileName, checksum, statements });
  }
  if (problems.length > 0) {
    throw new CassandraMigrationError(`invalid CQL migrations:\n  - ${problems.join('\n  - ')}`);
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Reads and plans the migrations in `dir`. */
export function loadCassandraMigrations(dir: string): CassandraMigration[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new CassandraMigrationError(
      `cannot read the migrations directory ${dir}: ${(err as Error).message}`,
    );
  }
  return planMigrations(
    names.map((fileName) => ({ fileName, source: readFileSync(join(dir, fileName), 'utf8') })),
  );
}

export interface MigrationPlan {
  pending: CassandraMigration[];
  /** Versions recorded in the keyspace that this code does not know (applied by a newer release). */
  unknownApplied: AppliedMigration[];
}

/**
 * What still has to run, given what the keyspace has recorded. Pure. Throws when an applied file
 * was edited afterwards (its checksum changed), or when a pending migration is older than one
 * already applied (a version was reused or inserted below the applied ones: the order would differ
 * between keyspaces).
 */
export function pendingMigrations(all: CassandraMigration[], applied: AppliedMigration[]): MigrationPlan {
  const appliedByVersion = new Map(applied.map((a) => [a.version, a]));
  const known = new Set(all.map((m) => m.version));
  const problems: string[] = [];
  for (const migration of all) {
    const record = appliedByVersion.get(migration.version);
    if (record && record.checksum !== migration.checksum) {
      problems.push(`${migration.fileName} was changed after it was applied (as ${record.fileName})`);
    }
  }
  const pending = all.filter((m) => !appliedByVersion.has(m.version));
  const latestApplied = Math.max(0, ...applied.map((a) => a.version));
  for (const migration of pending) {
    if (migration.version < latestApplied) {
      problems.push(
        `${migration.fileName} is pending but version ${latestApplied} is already applied: ` +
          'give new migrations a version above the latest applied one',
      );
    }
  }
  if (problems.length > 0) {
    throw new CassandraMigrationError(`cannot migrate:\n  - ${problems.join('\n  - ')}`);
  }
  return { pending, unknownApplied: applied.filter((a) => !known.has(a.version)) };
}

/** The CQL map literal for a keyspace's replication, e.g. `{'class': 'SimpleStrategy', 'replication_factor': 1}`. */
export function replicationCql(replication: KeyspaceReplication): string {
  const factor = (value: number, where: string) => {
    if (!Number.isInteger(value) || value < 1 || value > 99) {
      throw new CassandraMigrationError(
        `replication factor ${where} must be an integer from 1 to 99, got ${value}`,
      );
    }
    return value;
  };
  if (replication.class === 'SimpleStrategy') {
    return `{'class': 'SimpleStrategy', 'replication_factor': ${factor(replication.replicationFactor, '')}}`;
  }
  const entries = Object.entries(replication.dataCenters);
  if (entries.length === 0) {
    throw new CassandraMigrationError('NetworkTopologyStrategy needs at least one data center');
  }
  const parts = entries.map(([dc, rf]) => {
    if (!DATA_CENTER.test(dc)) throw new CassandraMigrationError(`invalid data center name '${dc}'`);
    return `'${dc}': ${factor(rf, `of ${dc}`)}`;
  });
  return `{'class': 'NetworkTopologyStrategy', ${parts.join(', ')}}`;
}

export interface RunCassandraMigrationsOptions {
  /** Where to connect; the runner opens (and closes) its own clients. */
  cassandra: Omit<CassandraConfig, 'keyspace'>;
  keyspace: string;
  /** Used only when the keyspace is created; an existing keyspace keeps its replication. */
  replication: KeyspaceReplication;
  /** A directory of `NNN_name.cql` files, or migrations already loaded. */
  migrations: string | CassandraMigration[];
  logger?: Logger;
  /** How long to wait for another instance's run to finish. Default 60 s. */
  lockTimeoutMs?: number;
}

const LOCK_TTL_SECONDS = 120;
const LOCK_NAME = 'migrations';

/** Applies the pending migrations of `keyspace`; returns the file names it applied, in order. */
export async function runCassandraMigrations(opts: RunCassandraMigrationsOptions): Promise<string[]> {
  const { keyspace, logger } = opts;
  assertCqlIdentifier(keyspace, 'keyspace name');
  const all =
    typeof opts.migrations === 'string' ? loadCassandraMigrations(opts.migrations) : opts.migrations;

  const admin = createCassandraClient({ ...opts.cassandra });
  try {
    await ensureKeyspace(admin, keyspace, opts.replication, opts.cassandra.credentials?.username);
    await admin.execute(
      `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations ` +
        '(version int PRIMARY KEY, file_name text, checksum text, applied_at timestamp)',
    );
    await admin.execute(
      `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations_lock ` +
        '(name text PRIMARY KEY, owner text, acquired_at timestamp)',
    );
  } finally {
    await admin.shutdown();
  }

  const client = createCassandraClient({ ...opts.cassandra, keyspace });
  try {
    const owner = randomUUID();
    await acquireLock(client, owner, opts.lockTimeoutMs ?? 60_000);
    try {
      const applied = (
        await client.execute('SELECT version, file_name, checksum FROM schema_migrations')
      ).rows.map((row) => ({
        version: row.get('version') as number,
        fileName: row.get('file_name') as string,
        checksum: row.get('checksum') as string,
      }));
      const plan = pendingMigrations(all, applied);
      if (plan.unknownApplied.length > 0) {
        logger?.warn(
          { keyspace, versions: plan.unknownApplied.map((m) => m.fileName) },
          'keyspace has migrations this release does not know (applied by a newer release); continuing',
        );
      }
      const done: string[] = [];
      for (const migration of plan.pending) {
        for (const [index, statement] of migration.statements.entries()) {
          try {
            await client.execute(statement);
          } catch (err) {
            throw new CassandraMigrationError(
              `${keyspace}: ${migration.fileName}, statement ${index + 1} of ${migration.statements.length} ` +
                `failed: ${(err as Error).message}`,
            );
          }
        }
        await client.execute(
          'INSERT INTO schema_migrations (version, file_name, checksum, applied_at) VALUES (?, ?, ?, ?)',
          [migration.version, migration.fileName, migration.checksum, new Date()],
        );
        logger?.info({ keyspace, migration: migration.fileName }, 'cassandra migration applied');
        done.push(migration.fileName);
      }
      return done;
    } finally {
      await client
        .execute('DELETE FROM schema_migrations_lock WHERE name = ? IF owner = ?', [LOCK_NAME, owner], {
          serialConsistency: types.consistencies.localSerial,
        })
        .catch((err: unknown) => logger?.warn({ err, keyspace }, 'could not release the migration lock'));
    }
  } finally {
    await client.shutdown();
  }
}

/**
 * Creates the keyspace when it is missing. Cassandra checks CREATE on all keyspaces even for
 * CREATE KEYSPACE IF NOT EXISTS, so an existing keyspace is looked up first: a service role that
 * may only use its own (existing) keyspaces then never issues it.
 */
async function ensureKeyspace(
  client: Client,
  keyspace: string,
  replication: KeyspaceReplication,
  role: string | undefined,
): Promise<void> {
  const existing = await client.execute(
    'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
    [keyspace.toLowerCase()],
  );
  if (existing.rowLength > 0) return;
  try {
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationCql(replication)}`,
    );
  } catch (err) {
    if ((err as { code?: number }).code === types.responseErrorCodes.unauthorized) {
      throw new CassandraMigrationError(
        `keyspace ${keyspace} does not exist and role ${role ?? '(anonymous)'} may not create it: ` +
          'an operator role creates it and grants the service its permissions ' +
          '(locally ./dispatch up; in a cluster the Cassandra init job)',
      );
    }
    throw err;
  }
}

/** Takes the keyspace's migration lease, waiting for another holder to finish (or its TTL to lapse). */
async function acquireLock(client: Client, owner: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await client.execute(
      'INSERT INTO schema_migrations_lock (name, owner, acquired_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ?',
      [LOCK_NAME, owner, new Date(), LOCK_TTL_SECONDS],
      { serialConsistency: types.consistencies.localSerial },
    );
    if (result.wasApplied()) return;
    if (Date.now() >= deadline) {
      const row = result.first();
      throw new CassandraMigrationError(
        `another migration run (owner ${String(row?.get('owner'))}, since ${String(row?.get('acquired_at'))}) ` +
          `still holds the lock after ${timeoutMs} ms; it lapses ${LOCK_TTL_SECONDS} s after it was taken`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
