import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  CURRENT_SCHEMA_VERSION,
  EVENT_TYPES,
  type EventType,
  isEventType,
  knownSchemaVersions,
  type PayloadOf,
  payloadSchemaFor,
} from './events';
import { idSchema, isoDateTimeSchema } from './payloads/common';
import { plainText } from './text';

/**
 * The envelope every event travels in (docs/design.md §2), a superset of the seed's.
 *
 * causationId is the eventId of the event that caused this one. order.created starts a saga and has
 * none; every other event must have one. Events triggered by a request or a timer rather than by an
 * event (order.cancelled, a DEADLINE_EXCEEDED release) name the latest event of the order their
 * producer acted on — at least the order.created they belong to.
 *
 * Unknown fields are ignored, in the envelope and in payloads (tolerant reader), so adding an optional
 * field is not a breaking change.
 */
export const envelopeSchema = z.object({
  eventId: z.uuid(),
  eventType: z.string().min(1),
  schemaVersion: z.int().min(1),
  /** When the fact happened, set once at the source. */
  occurredAt: isoDateTimeSchema,
  /** When it was published: equal to occurredAt until the outbox relay stamps it (`stampProduced`). */
  producedAt: isoDateTimeSchema,
  orderId: idSchema,
  /** The same for every event of one order's saga. */
  correlationId: plainText().min(1).max(128),
  causationId: z.uuid().optional(),
  /** The producing service's name. */
  producer: plainText().min(1).max(100),
  payload: z.record(z.string(), z.unknown()),
});

export interface EventEnvelope<T extends EventType = EventType> {
  eventId: string;
  eventType: T;
  schemaVersion: number;
  occurredAt: string;
  producedAt: string;
  orderId: string;
  correlationId: string;
  causationId?: string;
  producer: string;
  payload: PayloadOf<T>;
}

/** One envelope per event type, discriminated on `eventType` (narrowing gives the typed payload). */
export type AnyEvent = { [T in EventType]: EventEnvelope<T> }[EventType];

export interface EnvelopeIssue {
  /** Dotted path of the bad field, e.g. `payload.items.0.quantity`; '' for the message as a whole. */
  path: string;
  message: string;
}

export class EnvelopeValidationError extends Error {
  override readonly name = 'EnvelopeValidationError';
  readonly issues: EnvelopeIssue[];

  constructor(issues: EnvelopeIssue[]) {
    super(`invalid event envelope: ${issues.map((i) => `${i.path || '<root>'}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

export type ParseEnvelopeResult =
  | { ok: true; event: AnyEvent }
  | { ok: false; error: EnvelopeValidationError };

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  return [prefix, ...path.map(String)].filter((part) => part !== '').join('.');
}

function issuesOf(error: z.ZodError, prefix: string): EnvelopeIssue[] {
  return error.issues.map((issue) => ({ path: joinPath(prefix, issue.path), message: issue.message }));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates an already-decoded envelope. Reports every bad field at once: envelope fields, the payload
 * against the schema registered for (eventType, schemaVersion), the causationId rule, and that
 * payload.orderId matches the envelope's orderId.
 */
export function validateEnvelope(value: unknown): ParseEnvelopeResult {
  if (!isPlainObject(value)) {
    return fail([{ path: '', message: 'expected a JSON object' }]);
  }
  const issues: EnvelopeIssue[] = [];
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) issues.push(...issuesOf(envelope.error, ''));

  const { eventType, schemaVersion, causationId, eventId, orderId, payload } = value;
  const knownType = isEventType(eventType) ? eventType : undefined;
  if (typeof eventType === 'string' && eventType !== '' && !knownType) {
    issues.push({
      path: 'eventType',
      message: `unknown event type '${eventType}' (known: ${EVENT_TYPES.join(', ')})`,
    });
  }

  let parsedPayload: unknown;
  if (
    knownType &&
    typeof schemaVersion === 'number' &&
    Number.isInteger(schemaVersion) &&
    schemaVersion >= 1
  ) {
    const payloadSchema = payloadSchemaFor(knownType, schemaVersion);
    if (!payloadSchema) {
      const known = knownSchemaVersions(knownType).join(', ');
      issues.push({
        path: 'schemaVersion',
        message: `unknown schema version ${schemaVersion} for ${knownType} (known: ${known})`,
      });
    } else if (isPlainObject(payload)) {
      const result = payloadSchema.safeParse(payload);
      if (result.success) parsedPayload = result.data;
      else issues.push(...issuesOf(result.error, 'payload'));
    }
  }

  if (knownType === 'order.created' && causationId !== undefined) {
    issues.push({ path: 'causationId', message: 'must be absent for order.created (it starts the saga)' });
  }
  if (knownType && knownType !== 'order.created' && causationId === undefined) {
    issues.push({
      path: 'causationId',
      message: `required for ${knownType}: the eventId of the event that caused it`,
    });
  }
  if (causationId !== undefined && causationId === eventId) {
    issues.push({ path: 'causationId', message: 'must not equal eventId (an event cannot cause itself)' });
  }
  if (isPlainObject(payload) && typeof payload.orderId === 'string' && typeof orderId === 'string') {
    if (payload.orderId !== orderId) {
      issues.push({ path: 'payload.orderId', message: `must equal the envelope orderId '${orderId}'` });
    }
  }

  if (issues.length > 0 || !envelope.success || parsedPayload === undefined) {
    return fail(issues.length > 0 ? issues : [{ path: '', message: 'invalid envelope' }]);
  }
  // The payload was validated by the schema registered for this eventType, so the pair is one member
  // of the AnyEvent union; TypeScript cannot follow a registry lookup, hence the assertion.
  const event = { ...envelope.data, payload: parsedPayload } as AnyEvent;
  return { ok: true, event };
}

function fail(issues: EnvelopeIssue[]): ParseEnvelopeResult {
  return { ok: false, error: new EnvelopeValidationError(issues) };
}

/** Decodes and validates one Kafka message value. Never throws. */
export function parseEnvelope(bytes: Buffer | string): ParseEnvelopeResult {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return fail([{ path: '', message: `invalid JSON: ${reason}` }]);
  }
  return validateEnvelope(value);
}

export interface CreateEventInput<T extends EventType> {
  eventType: T;
  orderId: string;
  correlationId: string;
  /** Required for every event type except order.created. */
  causationId?: string;
  producer: string;
  payload: PayloadOf<T>;
  /** Defaults to now. */
  occurredAt?: string;
  /** Defaults to the current version of the event type. */
  schemaVersion?: number;
  /** Defaults to a fresh random UUID. */
  eventId?: string;
}

/**
 * Builds a valid event, or throws EnvelopeValidationError: a producer never writes an event its
 * consumers would reject. producedAt starts equal to occurredAt; the outbox relay stamps it at publish.
 */
export function createEvent<T extends EventType>(input: CreateEventInput<T>): EventEnvelope<T> {
  const occurredAt = input.occurredAt ?? new Date().toISOString();
  const candidate = {
    eventId: input.eventId ?? randomUUID(),
    eventType: input.eventType,
    schemaVersion: input.schemaVersion ?? CURRENT_SCHEMA_VERSION[input.eventType],
    occurredAt,
    producedAt: occurredAt,
    orderId: input.orderId,
    correlationId: input.correlationId,
    ...(input.causationId === undefined ? {} : { causationId: input.causationId }),
    producer: input.producer,
    payload: input.payload,
  };
  const result = validateEnvelope(candidate);
  if (!result.ok) throw result.error;
  // validateEnvelope checked the payload against input.eventType's schema.
  return result.event as EventEnvelope<T>;
}

/**
 * A copy of the event with producedAt set, as the outbox relay does right before publishing.
 * `at` is a Date or an ISO-8601 date-time with offset; anything else throws EnvelopeValidationError.
 */
export function stampProduced<E extends AnyEvent>(event: E, at: Date | string): E {
  const producedAt = typeof at === 'string' ? at : Number.isNaN(at.getTime()) ? '' : at.toISOString();
  if (!isoDateTimeSchema.safeParse(producedAt).success) {
    throw new EnvelopeValidationError([
      { path: 'producedAt', message: `not a valid date-time: '${String(at)}'` },
    ]);
  }
  return { ...event, producedAt };
}

/** UTF-8 JSON with the envelope fields in their documented order. */
export function serializeEnvelope(event: AnyEvent): Buffer {
  const ordered = {
    eventId: event.eventId,
    eventType: event.eventType,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    producedAt: event.producedAt,
    orderId: event.orderId,
    correlationId: event.correlationId,
    causationId: event.causationId,
    producer: event.producer,
    payload: event.payload,
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}
