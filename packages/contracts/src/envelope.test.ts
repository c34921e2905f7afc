import {
  type AnyEvent,
  createEvent,
  EnvelopeValidationError,
  type ParseEnvelopeResult,
  parseEnvelope,
  serializeEnvelope,
  stampProduced,
  validateEnvelope,
} from './envelope';
import { SAGA_PATHS, sampleEvents, sampleOrderCreatedPayload } from './testing';

const ORDER_ID = 'order-42';

function happyEvents(): AnyEvent[] {
  return sampleEvents('happy', { orderId: ORDER_ID, startAt: '2024-02-07T15:00:00Z' });
}

function eventOfType<T extends AnyEvent['eventType']>(eventType: T): Extract<AnyEvent, { eventType: T }> {
  const event = happyEvents().find(
    (e): e is Extract<AnyEvent, { eventType: T }> => e.eventType === eventType,
  );
  if (!event) throw new Error(`no ${eventType} in the happy path`);
  return event;
}

/** The raw JSON object of an event, for tampering with. */
function rawOf(event: AnyEvent): Record<string, unknown> {
  return JSON.parse(serializeEnvelope(event).toString('utf8'));
}

function issuesOf(result: ParseEnvelopeResult): { path: string; message: string }[] {
  if (result.ok) throw new Error('expected the envelope to be rejected');
  return result.error.issues;
}

function pathsOf(result: ParseEnvelopeResult): string[] {
  return issuesOf(result).map((issue) => issue.path);
}

describe('parseEnvelope', () => {
  it.each([...SAGA_PATHS])('round-trips every event of the %s path', (path) => {
    for (const event of sampleEvents(path)) {
      const parsed = parseEnvelope(serializeEnvelope(event));
      expect(parsed).toEqual({ ok: true, event });
    }
  });

  it('reads strings as well as buffers', () => {
    const event = eventOfType('payment.authorized');
    expect(parseEnvelope(serializeEnvelope(event).toString('utf8'))).toEqual({ ok: true, event });
  });

  it('reads the seed example envelope shape', () => {
    const seedLike = {
      eventId: '550e8400-e29b-41d4-a716-446655440000',
      eventType: 'payment.authorized',
      schemaVersion: 1,
      occurredAt: '2024-02-07T15:00:00Z',
      producedAt: '2024-02-07T15:00:01Z',
      orderId: 'order-123',
      correlationId: 'order-123',
      causationId: '6f1c2b1e-8c55-4a43-9c57-0f0f6f3f2a10',
      producer: 'payment-service',
      payload: {
        paymentId: 'p-1',
        orderId: 'order-123',
        amount: '10.00',
        currency: 'USD',
        status: 'AUTHORIZED',
      },
    };
    const result = parseEnvelope(JSON.stringify(seedLike));
    expect(result.ok).toBe(true);
  });

  it('reports invalid JSON', () => {
    const issues = issuesOf(parseEnvelope(Buffer.from('{"eventId": ')));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toEqual({ path: '', message: expect.stringMatching(/^invalid JSON: /) });
  });

  it.each(['[]', '42', 'null', '"text"'])('refuses %s as an envelope', (json) => {
    expect(issuesOf(parseEnvelope(json))).toEqual([{ path: '', message: 'expected a JSON object' }]);
  });

  it('lists every bad field, in the envelope and in the payload, with its path', () => {
    const raw = rawOf(eventOfType('order.created'));
    raw.eventId = 'not-a-uuid';
    raw.occurredAt = '2024-02-07T15:00:00'; // no offset
    delete raw.producedAt;
    raw.correlationId = '';
    raw.producer = 42;
    const payload = raw.payload as { items: { quantity: number }[]; currency: string };
    payload.items[0]!.quantity = 0;
    payload.currency = 'XXX';

    const result = parseEnvelope(JSON.stringify(raw));
    expect(pathsOf(result).sort()).toEqual(
      [
        'eventId',
        'occurredAt',
        'producedAt',
        'correlationId',
        'producer',
        'payload.items.0.quantity',
        'payload.currency',
      ].sort(),
    );
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(EnvelopeValidationError);
    expect(result.error.name).toBe('EnvelopeValidationError');
    expect(result.error.message).toContain('payload.items.0.quantity: ');
  });

  it('reports missing envelope fields', () => {
    const result = parseEnvelope('{}');
    expect(pathsOf(result).sort()).toEqual(
      [
        'eventId',
        'eventType',
        'schemaVersion',
        'occurredAt',
        'producedAt',
        'orderId',
        'correlationId',
        'producer',
        'payload',
      ].sort(),
    );
  });

  it('refuses a schemaVersion below 1 or not an integer', () => {
    const raw = rawOf(eventOfType('payment.authorized'));
    raw.schemaVersion = 0;
    expect(pathsOf(parseEnvelope(JSON.stringify(raw)))).toEqual(['schemaVersion']);
    raw.schemaVersion = 1.5;
    expect(pathsOf(parseEnvelope(JSON.stringify(raw)))).toEqual(['schemaVersion']);
  });

  it('reports an unknown event type', () => {
    const raw = rawOf(eventOfType('payment.authorized'));
    raw.eventType = 'payment.teleported';
    const issues = issuesOf(parseEnvelope(JSON.stringify(raw)));
    expect(issues).toEqual([
      { path: 'eventType', message: expect.stringContaining("unknown event type 'payment.teleported'") },
    ]);
  });

  it('reports an unknown schema version of a known type', () => {
    const raw = rawOf(eventOfType('payment.authorized'));
    raw.schemaVersion = 2;
    const issues = issuesOf(parseEnvelope(JSON.stringify(raw)));
    expect(issues).toEqual([
      { path: 'schemaVersion', message: 'unknown schema version 2 for payment.authorized (known: 1)' },
    ]);
  });

  it('requires causationId on every event type but order.created', () => {
    for (const event of sampleEvents('happy').concat(
      sampleEvents('deliveryFailed'),
      sampleEvents('cancelledAfterPayment'),
    )) {
      if (event.eventType === 'order.created') continue;
      const raw = rawOf(event);
      delete raw.causationId;
      expect(pathsOf(parseEnvelope(JSON.stringify(raw)))).toEqual(['causationId']);
    }
  });

  it('refuses a causationId on order.created', () => {
    const raw = rawOf(eventOfType('order.created'));
    raw.causationId = '6f1c2b1e-8c55-4a43-9c57-0f0f6f3f2a10';
    expect(pathsOf(parseEnvelope(JSON.stringify(raw)))).toEqual(['causationId']);
  });

  it('refuses a malformed causationId or an event that causes itself', () => {
    const raw = rawOf(eventOfType('inventory.reserved'));
    raw.causationId = 'abc';
    expect(pathsOf(parseEnvelope(JSON.stringify(raw)))).toEqual(['causationId']);
    raw.causationId = raw.eventId;
    expect(pathsOf(parseEnvelope(JSON.stringify(raw)))).toEqual(['causationId']);
  });

  it('requires payload.orderId to equal the envelope orderId', () => {
    const raw = rawOf(eventOfType('inventory.reserved'));
    (raw.payload as { orderId: string }).orderId = 'order-other';
    expect(issuesOf(parseEnvelope(JSON.stringify(raw)))).toEqual([
      { path: 'payload.orderId', message: "must equal the envelope orderId 'order-42'" },
    ]);
  });

  it('accepts offsets other than Z', () => {
    const raw = rawOf(eventOfType('inventory.reserved'));
    raw.occurredAt = '2024-02-07T17:00:00.000+02:00';
    expect(parseEnvelope(JSON.stringify(raw)).ok).toBe(true);
  });

  it('ignores unknown fields (tolerant reader) and drops them', () => {
    const event = eventOfType('payment.authorized');
    const raw = rawOf(event);
    raw.futureEnvelopeField = 'x';
    (raw.payload as Record<string, unknown>).futurePayloadField = 'y';
    expect(parseEnvelope(JSON.stringify(raw))).toEqual({ ok: true, event });
  });

  it('validateEnvelope checks already-decoded values the same way', () => {
    const event = eventOfType('eta.updated');
    expect(validateEnvelope(rawOf(event))).toEqual({ ok: true, event });
    expect(validateEnvelope(undefined).ok).toBe(false);
  });
});

describe('createEvent', () => {
  it('fills eventId, occurredAt, producedAt and schemaVersion', () => {
    const before = Date.now();
    const event = createEvent({
      eventType: 'order.created',
      orderId: ORDER_ID,
      correlationId: ORDER_ID,
      producer: 'order-service',
      payload: sampleOrderCreatedPayload(ORDER_ID),
    });
    expect(event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.schemaVersion).toBe(1);
    expect(event.producedAt).toBe(event.occurredAt);
    expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(event.occurredAt)).toBeLessThanOrEqual(Date.now());
    expect(event).not.toHaveProperty('causationId');
    expect(event.payload.totalAmount).toBe('64.99');
  });

  it('keeps the values it is given', () => {
    const event = createEvent({
      eventType: 'order.cancelled',
      eventId: '0b7e1f0e-3f55-4f8e-9d6e-5c1b8c1f7a11',
      orderId: ORDER_ID,
      correlationId: 'corr-1',
      causationId: '6f1c2b1e-8c55-4a43-9c57-0f0f6f3f2a10',
      producer: 'order-service',
      occurredAt: '2024-02-07T15:00:00.000Z',
      schemaVersion: 1,
      payload: { orderId: ORDER_ID, cancelledBy: 'CUSTOMER' },
    });
    expect(event).toEqual({
      eventId: '0b7e1f0e-3f55-4f8e-9d6e-5c1b8c1f7a11',
      eventType: 'order.cancelled',
      schemaVersion: 1,
      occurredAt: '2024-02-07T15:00:00.000Z',
      producedAt: '2024-02-07T15:00:00.000Z',
      orderId: ORDER_ID,
      correlationId: 'corr-1',
      causationId: '6f1c2b1e-8c55-4a43-9c57-0f0f6f3f2a10',
      producer: 'order-service',
      payload: { orderId: ORDER_ID, cancelledBy: 'CUSTOMER' },
    });
  });

  it('throws EnvelopeValidationError rather than build an invalid event', () => {
    const build = () =>
      createEvent({
        eventType: 'payment.failed',
        orderId: ORDER_ID,
        correlationId: ORDER_ID,
        producer: 'payment-service',
        payload: {
          paymentId: 'p-1',
          orderId: 'order-other',
          amount: '1.0',
          currency: 'EUR',
          status: 'FAILED',
          failureReason: 'card_declined',
        },
      });
    expect(build).toThrow(EnvelopeValidationError);
    try {
      build();
    } catch (err) {
      const paths = (err as EnvelopeValidationError).issues.map((issue) => issue.path).sort();
      expect(paths).toEqual(['causationId', 'payload.amount', 'payload.orderId']);
    }
  });
});

describe('stampProduced', () => {
  it('returns a copy with producedAt set, leaving the original alone', () => {
    const event = eventOfType('delivery.assigned');
    const stamped = stampProduced(event, new Date('2024-02-07T16:00:00.000Z'));
    expect(stamped).toEqual({ ...event, producedAt: '2024-02-07T16:00:00.000Z' });
    expect(event.producedAt).toBe(event.occurredAt);
    expect(stamped.occurredAt).toBe(event.occurredAt);
  });

  it('also takes an ISO string, and refuses anything else', () => {
    const event = eventOfType('delivery.assigned');
    expect(stampProduced(event, '2024-02-07T18:00:00+02:00').producedAt).toBe('2024-02-07T18:00:00+02:00');
    expect(() => stampProduced(event, 'yesterday')).toThrow(EnvelopeValidationError);
    expect(() => stampProduced(event, new Date(Number.NaN))).toThrow(EnvelopeValidationError);
  });
});

describe('serializeEnvelope', () => {
  it('writes UTF-8 JSON with the envelope fields in documented order', () => {
    const event = eventOfType('inventory.reserved');
    const json = serializeEnvelope(event).toString('utf8');
    expect(Object.keys(JSON.parse(json))).toEqual([
      'eventId',
      'eventType',
      'schemaVersion',
      'occurredAt',
      'producedAt',
      'orderId',
      'correlationId',
      'causationId',
      'producer',
      'payload',
    ]);
  });

  it('leaves out an absent causationId', () => {
    const json = JSON.parse(serializeEnvelope(eventOfType('order.created')).toString('utf8'));
    expect(json).not.toHaveProperty('causationId');
  });
});
