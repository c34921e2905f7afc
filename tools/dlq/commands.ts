import { dlqTopic, parseEnvelope } from '@dispatch/contracts';
import {
  type DeadLetter,
  type EventPublisher,
  type KafkaClient,
  readDlq,
  toReplayMessage,
} from '@dispatch/platform';
import type { DlqCommand } from './args';

export interface DlqRow {
  partition: number;
  offset: string;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  reason: string | null;
  retryCount: number | null;
  failedAt: string | null;
  error: string | null;
  eventType: string | null;
  orderId: string | null;
}

/** One printable row per dead letter; the event is described when its envelope parses. */
export function describeDeadLetter(d: DeadLetter): DlqRow {
  const parsed = d.value ? parseEnvelope(d.value) : undefined;
  return {
    partition: d.partition,
    offset: d.offset,
    originalTopic: d.dlq?.originalTopic ?? null,
    originalPartition: d.dlq?.originalPartition ?? null,
    originalOffset: d.dlq?.originalOffset ?? null,
    reason: d.dlq?.reason ?? null,
    retryCount: d.dlq?.retryCount ?? null,
    failedAt: d.dlq?.failedAt ?? null,
    error: d.dlq?.error ?? d.dlqError ?? null,
    eventType: parsed?.ok ? parsed.event.eventType : null,
    orderId: parsed?.ok ? parsed.event.orderId : null,
  };
}

/** Which dead letters a replay command selects. Pure. */
export function selectForReplay(
  letters: DeadLetter[],
  cmd: Extract<DlqCommand, { name: 'replay' }>,
): { selected: DeadLetter[]; missing: string[] } {
  const usable = letters.filter((d) => d.dlq !== null);
  if ('all' in cmd.selection) {
    const selected = usable.filter((d) =>
      cmd.reason ? d.dlq?.reason === cmd.reason : d.dlq?.reason !== 'invalid',
    );
    return { selected, missing: [] };
  }
  const selected: DeadLetter[] = [];
  const missing: string[] = [];
  for (const wanted of cmd.selection.offsets) {
    const found = usable.find((d) => d.partition === wanted.partition && d.offset === wanted.offset);
    if (found && (!cmd.reason || found.dlq?.reason === cmd.reason)) selected.push(found);
    else missing.push(`${wanted.partition}:${wanted.offset}`);
  }
  return { selected, missing };
}

export async function listDeadLetters(kafka: KafkaClient, service: string): Promise<DlqRow[]> {
  return (await readDlq(kafka, dlqTopic(service))).map(describeDeadLetter);
}

export class ReplaySelectionError extends Error {}

/** Publishes the selected dead letters to their original topics; returns what was (or would be) sent. */
export async function replayDeadLetters(
  kafka: KafkaClient,
  publisher: EventPublisher,
  cmd: Extract<DlqCommand, { name: 'replay' }>,
): Promise<DlqRow[]> {
  const letters = await readDlq(kafka, dlqTopic(cmd.service));
  const { selected, missing } = selectForReplay(letters, cmd);
  if (missing.length > 0) {
    throw new ReplaySelectionError(
      `not in dlq.${cmd.service} (or with unreadable DLQ headers, or another reason): ${missing.join(', ')}`,
    );
  }
  if (!cmd.dryRun && selected.length > 0) await publisher.publish(selected.map((d) => toReplayMessage(d)));
  return selected.map(describeDeadLetter);
}
