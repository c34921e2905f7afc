import { EVENT_TYPES } from '@dispatch/contracts';
import type { KafkaMessage } from 'kafkajs';
import { eventLogger, type Logger } from '../logger';
import type { FailedRecord } from './dlq';
import { acceptEvent } from './event-acceptance';
import type { ConsumedEvent } from './handler';
import { decodeHeaders } from './headers';

/** A fetched message, as the lane sees it: an event to handle, one to skip, or an invalid one. */
export type Entry =
  | { kind: 'event'; offset: string; item: ConsumedEvent; record: FailedRecord }
  | { kind: 'skip'; offset: string }
  | {
      kind: 'invalid';
      offset: string;
      record: FailedRecord;
      reason: 'invalid' | 'clock';
      error: string;
      log: Logger;
    };

/** Classifies one fetched message of `topic`/`partition`; only events the handler acts on are fully validated. */
export type ClassifyMessage = (topic: string, partition: number, message: KafkaMessage) => Entry;

export function messageClassifier(opts: {
  logger: Logger;
  limits: { maxClockSkewMs: number; maxEventBytes: number };
  /** The event types the handler acts on; undefined: all. */
  handledTypes: ReadonlySet<string> | undefined;
}): ClassifyMessage {
  const { logger, limits, handledTypes } = opts;
  return (topic, partition, message) => {
    const { offset } = message;
    const record: FailedRecord = {
      topic,
      partition,
      offset,
      key: message.key,
      value: message.value,
      headers: decodeHeaders(message.headers),
    };
    const bytes = message.value ?? Buffer.alloc(0);
    const recordLogger = logger.child({ topic, partition, offset });
    // A well-known type the handler ignores is acknowledged untouched; anything else is checked in
    // full (an unknown or missing type is an invalid event, and goes to the DLQ).
    const json = bytes.length <= limits.maxEventBytes ? parseJson(bytes) : undefined;
    const eventType = eventTypeOf(json);
    if (handledTypes && KNOWN_EVENT_TYPES.has(eventType) && !handledTypes.has(eventType)) {
      return { kind: 'skip', offset };
    }
    const accepted = acceptEvent(topic, bytes, { ...limits, json, nowMs: Date.now() });
    if (!accepted.ok) {
      recordLogger.warn({ reason: accepted.reason, error: accepted.error }, 'event refused');
      const { reason, error } = accepted;
      return { kind: 'invalid', offset, record, reason, error, log: recordLogger };
    }
    const event = accepted.event;
    const item: ConsumedEvent = {
      event,
      topic,
      partition,
      offset,
      headers: record.headers,
      attempt: 1,
      logger: eventLogger(recordLogger, {
        orderId: event.orderId,
        correlationId: event.correlationId,
        eventId: event.eventId,
        eventType: event.eventType,
      }),
    };
    return { kind: 'event', offset, item, record };
  };
}

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The parsed JSON of a message, or undefined when it is not JSON. */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The eventType field of a parsed JSON value, or '' when it has none. */
function eventTypeOf(json: unknown): string {
  if (typeof json !== 'object' || json === null || !('eventType' in json)) return '';
  return typeof json.eventType === 'string' ? json.eventType : '';
}
