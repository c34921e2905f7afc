import { serializeEnvelope } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { acceptEvent, clockViolation, topicViolation } from './event-acceptance';

describe('topicViolation', () => {
  it("accepts an event on its own raw topic from that topic's owner", () => {
    const event = { eventType: 'payment.authorized', producer: 'payment-service' } as const;
    expect(topicViolation('raw.payment-events', event)).toBeUndefined();
  });

  it('refuses an event type that lives on another raw topic', () => {
    const event = { eventType: 'payment.authorized', producer: 'payment-service' } as const;
    expect(topicViolation('raw.inventory-events', event)).toBe(
      'payment.authorized events belong on raw.payment-events, not raw.inventory-events',
    );
  });

  it('refuses an event whose producer does not own the topic', () => {
    const event = { eventType: 'payment.authorized', producer: 'order-service' } as const;
    expect(topicViolation('raw.payment-events', event)).toBe(
      "raw.payment-events is written by payment-service only; this event's producer is 'order-service'",
    );
  });

  it('does not check topics that are not raw topics', () => {
    expect(topicViolation('test.events', { eventType: 'order.created', producer: 'test' })).toBeUndefined();
  });
});

describe('clockViolation', () => {
  const now = Date.parse('2026-12-02T10:00:00.000Z');

  it('accepts past events and events within the skew', () => {
    expect(clockViolation('2020-01-01T00:00:00.000Z', now, 300_000)).toBeUndefined();
    expect(clockViolation('2026-12-02T10:05:00.000Z', now, 300_000)).toBeUndefined();
  });

  it('refuses an event dated beyond the skew, saying by how much', () => {
    expect(clockViolation('2026-12-02T10:05:01.000Z', now, 300_000)).toBe(
      "occurredAt 2026-12-02T10:05:01.000Z is 301 s ahead of this consumer's clock (at most 300 s allowed)",
    );
    expect(clockViolation('9999-12-31T23:59:59.000Z', now, 300_000)).toMatch(
      /ahead of this consumer's clock/,
    );
  });
});

describe('acceptEvent', () => {
  const [created] = sampleEvents('happy', { startAt: '2026-12-02T09:59:00.000Z' });
  const nowMs = Date.parse('2026-12-02T10:00:00.000Z');
  const bytes = serializeEnvelope(created as NonNullable<typeof created>);

  it('accepts a valid event on its own topic', () => {
    expect(acceptEvent('raw.order-events', bytes, { nowMs })).toEqual({ ok: true, event: created });
  });

  it('refuses, in this order: oversize, invalid, misplaced, from the future', () => {
    expect(acceptEvent('raw.order-events', bytes, { nowMs, maxEventBytes: 10 })).toMatchObject({
      ok: false,
      reason: 'invalid',
      error: expect.stringMatching(/bytes; events are at most 10$/),
    });
    expect(acceptEvent('raw.order-events', Buffer.from('{'), { nowMs })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    expect(acceptEvent('raw.payment-events', bytes, { nowMs })).toMatchObject({
      ok: false,
      reason: 'invalid',
      error: 'order.created events belong on raw.order-events, not raw.payment-events',
    });
    expect(acceptEvent('raw.order-events', bytes, { nowMs: nowMs - 3_600_000 })).toMatchObject({
      ok: false,
      reason: 'clock',
    });
  });
});
