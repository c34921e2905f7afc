import { CONSUMING_SERVICES, type ConsumingService, isConsumingService } from '@dispatch/contracts';
import { DLQ_REASONS, type DlqReason } from '@dispatch/platform';

export class UsageError extends Error {}

export const USAGE = `Usage: pnpm dlq <command> <service> [options]

  list <service> [--json]
        print every dead letter of dlq.<service>: partition/offset, original topic/partition/offset,
        reason, retry count, failed-at, error, and the event's type and orderId when it parses
  replay <service> (--all | --offset P:O[,P:O...]) [--reason invalid|permanent|exhausted] [--dry-run]
        republish the selected dead letters to the topic they came from, each checked first: that
        topic must be one <service> consumes, and the original partition and offset must exist and
        hold the same key and value bytes as the dead letter. What is published is that original
        record, read back from its offset (its key, value and headers). A truncated dead letter
        (x-dlq-truncated) is replayed the same way when the original's SHA-256 and size match its
        x-original-sha256/x-original-size headers. Anything else is refused with the reason; the
        rest is still replayed, and the exit status is 1 when any was refused.
        Consumers record every event in their inbox, so replaying one that was already handled is
        a no-op. --all skips reason "invalid" unless --reason invalid is given: an envelope that
        failed validation would only fail again.

  Services: ${CONSUMING_SERVICES.join(', ')}.
  The broker comes from KAFKA_BROKERS (default 127.0.0.1:9092).
`;

/** The services with a DLQ: those that consume raw topics (one catalogue, in @dispatch/contracts). */
export const SERVICES: readonly ConsumingService[] = CONSUMING_SERVICES;

export type DlqCommand =
  | { name: 'help' }
  | { name: 'list'; service: ConsumingService; json: boolean }
  | {
      name: 'replay';
      service: ConsumingService;
      selection: { all: true } | { offsets: { partition: number; offset: string }[] };
      reason?: DlqReason;
      dryRun: boolean;
    };

/** Parses the CLI arguments; throws UsageError with a precise message. Pure. */
export function parseDlqArgs(argv: string[]): DlqCommand {
  const [command, service, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h')
    return { name: 'help' };
  if (command !== 'list' && command !== 'replay') throw new UsageError(`unknown command "${command}"`);
  if (!service) throw new UsageError(`"${command}" needs a service name`);
  if (!isConsumingService(service)) {
    throw new UsageError(`unknown service "${service}" (one of: ${SERVICES.join(', ')})`);
  }
  if (command === 'list') {
    const unknown = rest.filter((a) => a !== '--json');
    if (unknown.length > 0) throw new UsageError(`unknown option(s) for list: ${unknown.join(' ')}`);
    return { name: 'list', service, json: rest.includes('--json') };
  }

  let all = false;
  let offsets: { partition: number; offset: string }[] | undefined;
  let reason: DlqReason | undefined;
  let dryRun = false;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i];
    if (arg === '--all') all = true;
    else if (arg === '--dry-run') dryRun = true;
    else if (arg === '--reason') {
      const value = rest[++i];
      if (!value || !DLQ_REASONS.includes(value as DlqReason)) {
        throw new UsageError(`--reason needs one of: ${DLQ_REASONS.join(', ')}`);
      }
      reason = value as DlqReason;
    } else if (arg === '--offset') {
      const value = rest[++i];
      if (!value) throw new UsageError('--offset needs PARTITION:OFFSET[,PARTITION:OFFSET...]');
      offsets = value.split(',').map((pair) => {
        const match = /^(\d{1,5}):(\d{1,19})$/.exec(pair.trim());
        if (!match?.[1] || !match[2])
          throw new UsageError(`bad --offset "${pair}": expected PARTITION:OFFSET`);
        return { partition: Number(match[1]), offset: match[2] };
      });
    } else throw new UsageError(`unknown option for replay: ${arg}`);
  }
  if (all === (offsets !== undefined)) throw new UsageError('replay needs exactly one of --all or --offset');
  return {
    name: 'replay',
    service,
    selection: offsets ? { offsets } : { all: true },
    ...(reason ? { reason } : {}),
    dryRun,
  };
}
