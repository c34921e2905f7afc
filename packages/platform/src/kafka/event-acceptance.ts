import {
  type AnyEvent,
  isRawTopic,
  parseEnvelope,
  topicForEventType,
  topicOwner,
  validateEnvelope,
} from '@dispatch/contracts';

export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;

/**
 * Why a valid envelope may still not be accepted from `topic`, or undefined. Pure. Each raw topic
 * carries only its own event types and is written by one service, so an event elsewhere (or from
 * anyone else) is forged or misrouted; other topics (tests, tools) are not checked.
 */
export function topicViolation(
  topic: string,
  event: Pick<AnyEvent, 'eventType' | 'producer'>,
): string | undefined {
  if (!isRawTopic(topic)) return undefined;
  const home = topicForEventType(event.eventType);
  if (home !== topic) return `${event.eventType} events belong on ${home}, not ${topic}`;
  const owner = topicOwner(topic);
  if (event.producer !== owner) {
    return `${topic} is written by ${owner} only; this event's producer is '${event.producer}'`;
  }
  return undefined;
}

/** Why an event dated `occurredAt` is too far in the future, or undefined. Pure. */
export function clockViolation(occurredAt: string, nowMs: number, maxSkewMs: number): string | undefined {
  const aheadMs = Date.parse(occurredAt) - nowMs;
  if (!(aheadMs > maxSkewMs)) return undefined;
  return `occurredAt ${occurredAt} is ${Math.round(aheadMs / 1000)} s ahead of this consumer's clock (at most ${Math.round(maxSkewMs / 1000)} s allowed)`;
}

export interface AcceptanceOptions {
  nowMs: number;
  maxClockSkewMs?: number;
  maxEventBytes?: number;
  /** The message already parsed as JSON (undefined: parse `bytes`). */
  json?: unknown;
}

export type Acceptance =
  | { ok: true; event: AnyEvent }
  | { ok: false; reason: 'invalid' | 'clock'; error: string };

/**
 * Whether a message read from `topic` is an event to act on: at most `maxEventBytes`, a valid
 * envelope, on its own topic from that topic's owner, and not dated beyond the clock skew. Pure. The
 * consumer dead-letters what is refused (with the reason); the read-model rebuild skips it, so both
 * see the same events.
 */
export function acceptEvent(topic: string, bytes: Buffer, opts: AcceptanceOptions): Acceptance {
  const maxEventBytes = opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  if (bytes.length > maxEventBytes) {
    return {
      ok: false,
      reason: 'invalid',
      error: `the message is ${bytes.length} bytes; events are at most ${maxEventBytes}`,
    };
  }
  const parsed = opts.json === undefined ? parseEnvelope(bytes) : validateEnvelope(opts.json);
  if (!parsed.ok) return { ok: false, reason: 'invalid', error: parsed.error.message };
  const misplaced = topicViolation(topic, parsed.event);
  if (misplaced) return { ok: false, reason: 'invalid', error: misplaced };
  const early = clockViolation(
    parsed.event.occurredAt,
    opts.nowMs,
    opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
  );
  if (early) return { ok: false, reason: 'clock', error: early };
  return { ok: true, event: parsed.event };
}
