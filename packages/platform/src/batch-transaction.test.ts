import type { AnyEvent } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { type StepContext, stepsByEventType } from './batch-transaction';

describe('stepsByEventType', () => {
  const events = sampleEvents('happy');
  const stepFor = (event: AnyEvent) => ({ event }) as StepContext;

  it("runs each event's own step, with the event narrowed to its type, and nothing for other types", async () => {
    const seen: string[] = [];
    const step = stepsByEventType({
      'order.created': async ({ event }) => void seen.push(`created ${event.payload.customerId}`),
      'payment.authorized': async ({ event }) => void seen.push(`authorized ${event.payload.paymentId}`),
    });
    for (const event of events) await step(stepFor(event));
    const created = events.find((e) => e.eventType === 'order.created');
    const authorized = events.find((e) => e.eventType === 'payment.authorized');
    expect(seen).toEqual([
      `created ${created?.eventType === 'order.created' ? created.payload.customerId : ''}`,
      `authorized ${authorized?.eventType === 'payment.authorized' ? authorized.payload.paymentId : ''}`,
    ]);
  });
});
