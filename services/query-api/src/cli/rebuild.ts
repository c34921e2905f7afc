import { ConfigError, createCassandraClient, createLogger, loadConfig } from '@dispatch/platform';
import { cassandraConnection, queryApiBaseConfigSchema, SERVICE_NAME } from '../config';
import { RebuildError, rebuildReadModel } from '../rebuild/rebuild';
import { GenerationConflictError, GenerationStore } from '../store/generations';

const USAGE = `Usage: pnpm --filter @dispatch/query-api run rebuild [--status] [--force]
  (with "run": a bare "pnpm rebuild" is pnpm's own command for native modules)

Replays raw.* from offset 0 into a fresh read-model generation and switches to it atomically
(docs/runbook.md). Live query-api instances keep serving and consuming meanwhile.

  --status   print the active generation (and one being built), change nothing
  --force    take over a generation left "building" by a rebuild that died
  --help     this text

Reads the same environment as the service (KAFKA_BROKERS, CASSANDRA_*, READ_MODEL_REFRESH_MS, REBUILD_*).`;

async function printStatus(): Promise<void> {
  const config = loadConfig(`${SERVICE_NAME} rebuild`, queryApiBaseConfigSchema);
  const client = createCassandraClient(cassandraConnection(config));
  try {
    const store = new GenerationStore(client, config.CASSANDRA_KEYSPACE);
    const state = await store.read();
    const line = (label: string, generation: number | null) =>
      `${label.padEnd(10)} ${generation === null ? '-' : `${generation} (keyspace ${store.keyspaceOf(generation)})`}`;
    const lines = [
      line('active', state.active),
      line('building', state.building),
      line('previous', state.previous),
      `${'last'.padEnd(10)} ${state.last}`,
      `${'switched'.padEnd(10)} ${state.switchedAt?.toISOString() ?? '-'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await client.shutdown();
  }
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !['--status', '--force', '--help', '-h'].includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\n\n${USAGE}\n`);
    return 64; // EX_USAGE
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.includes('--status')) {
    await printStatus();
    return 0;
  }
  const config = loadConfig(`${SERVICE_NAME} rebuild`, queryApiBaseConfigSchema);
  const logger = createLogger(`${SERVICE_NAME}-rebuild`, config.LOG_LEVEL);
  const report = await rebuildReadModel({ config, logger, force: args.includes('--force') });
  process.stdout.write(
    `rebuild done: generation ${report.generation} (keyspace ${report.keyspace}) is active; ` +
      `${report.applied} events replayed, ${report.invalid} invalid records skipped, ${Math.round(report.durationMs / 1000)} s.\n` +
      `The previous generation's keyspace ${report.previousKeyspace} is kept; drop it when no longer needed:\n` +
      `  DROP KEYSPACE ${report.previousKeyspace};\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Every failure the command expects carries a message meant for the operator; the stack only
    // helps with the unexpected ones.
    const expected =
      err instanceof RebuildError || err instanceof GenerationConflictError || err instanceof ConfigError;
    const message =
      err instanceof Error ? (expected ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`rebuild failed: ${message}\n`);
    process.exit(1);
  },
);
