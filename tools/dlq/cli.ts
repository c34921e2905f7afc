import { createEventProducer, createKafka, createLogger } from '@dispatch/platform';
import { stackKafka } from '@dispatch/testkit';
import { KAFKA_DLQ_TOOL } from '../stack/kafka-acls';
import { parseDlqArgs, USAGE, UsageError } from './args';
import { type DlqRow, listDeadLetters, ReplaySelectionError, replayDeadLetters } from './commands';
import { formatReplayResults } from './report';

function printRows(rows: DlqRow[]): void {
  for (const r of rows) {
    process.stdout.write(
      `${r.partition}:${r.offset}  ${r.reason ?? '?'}  ${r.originalTopic ?? '?'}[${r.originalPartition ?? '?'}]@${r.originalOffset ?? '?'}` +
        `  retries=${r.retryCount ?? '?'}  ${r.failedAt ?? ''}  ${r.eventType ?? '(unparseable)'} ${r.orderId ?? ''}\n` +
        `    ${r.error ?? ''}\n`,
    );
  }
}

/** `pnpm dlq list|replay <service>`: inspect and replay a service's dead letters. */
async function main(argv: string[]): Promise<number> {
  const cmd = parseDlqArgs(argv);
  if (cmd.name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = createLogger('dlq-cli', process.env.LOG_LEVEL ?? 'warn');
  // Its own principal (KAFKA_SASL_* in a cluster): it may read dlq.* and write the raw topics, no more.
  const kafka = createKafka({ ...stackKafka(process.env, KAFKA_DLQ_TOOL), clientId: 'dlq-cli', logger });
  if (cmd.name === 'list') {
    const rows = await listDeadLetters(kafka, cmd.service);
    if (cmd.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else {
      printRows(rows);
      process.stdout.write(`${rows.length} dead letter(s) in dlq.${cmd.service}\n`);
    }
    return 0;
  }
  const producer = createEventProducer(kafka, { logger });
  await producer.connect();
  try {
    const results = await replayDeadLetters(kafka, producer, cmd);
    process.stdout.write(formatReplayResults(results, cmd.dryRun));
    const refused = results.filter((r) => r.outcome === 'refused').length;
    if (refused > 0) {
      process.stderr.write(
        `error: refused ${refused} of ${results.length} dead letter(s) of dlq.${cmd.service}\n`,
      );
      return 1;
    }
    return 0;
  } finally {
    await producer.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
    else if (err instanceof ReplaySelectionError) process.stderr.write(`error: ${err.message}\n`);
    else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
