import type { AnyEvent } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import type { ConsumedEvent, HandlerContext } from './kafka';
import type { Logger } from './logger';
import type { BackgroundTask, ConsumerDefinition, ServiceContext, ServiceDefinition } from './service';
import { withServiceOverrides } from './service-overrides';

const ctx = { name: 'svc' } as ServiceContext;
const [first, second] = sampleEvents('happy') as [AnyEvent, AnyEvent, ...AnyEvent[]];
const handlerCtx = (): HandlerContext => ({
  topic: 'raw.order-events',
  partition: 0,
  offset: '0',
  headers: {},
  logger: {} as Logger,
  attempt: 1,
});
const consumed = (event: AnyEvent): ConsumedEvent => ({ ...handlerCtx(), event });

/** A definition with a batch consumer and an event consumer, counting what reaches each. */
function definition() {
  const batches: AnyEvent[][] = [];
  const events: AnyEvent[] = [];
  const built: string[] = [];
  const task: BackgroundTask = { name: 'sweeper', stop: async () => undefined };
  const def: ServiceDefinition = {
    name: 'svc',
    port: 0,
    kafka: { brokers: ['127.0.0.1:9092'] },
    consumers: (c): ConsumerDefinition[] => {
      built.push(c.name);
      return [
        {
          topics: ['raw.order-events', 'raw.payment-events'],
          batchHandler: async (batch) => void batches.push(batch.map((b) => b.event)),
          eventTypes: ['order.created'],
        },
        {
          groupId: 'svc-events',
          topics: ['raw.delivery-events'],
          handler: async (event) => void events.push(event),
          retry: { maxAttempts: 2 },
        },
      ];
    },
    tasks: () => [task],
  };
  return { def, batches, events, built, task };
}

describe('withServiceOverrides', () => {
  it('without overrides, consumers and tasks are the definition’s own', async () => {
    const { def, task } = definition();
    const result = withServiceOverrides(def);
    const [batch, single] = result.consumers?.(ctx) ?? [];
    expect(batch).toMatchObject({
      topics: ['raw.order-events', 'raw.payment-events'],
      eventTypes: ['order.created'],
    });
    expect(batch?.groupId).toBeUndefined();
    expect(single).toMatchObject({
      groupId: 'svc-events',
      topics: ['raw.delivery-events'],
      retry: { maxAttempts: 2 },
    });
    expect(await result.tasks?.(ctx)).toEqual([task]);
    expect(result).toMatchObject({ name: 'svc', port: 0 });
  });

  it('enabled: false runs no consumer but still builds them (what building registers exists)', () => {
    const { def, built } = definition();
    expect(withServiceOverrides(def, { consumers: { enabled: false } }).consumers?.(ctx)).toEqual([]);
    expect(built).toEqual(['svc']);
  });

  it('groupId replaces every consumer’s group', () => {
    const { def } = definition();
    const consumers = withServiceOverrides(def, { consumers: { groupId: 'test-group' } }).consumers?.(ctx);
    expect(consumers?.map((c) => c.groupId)).toEqual(['test-group', 'test-group']);
  });

  it('topics replaces the topics it names, by the topic they replace, and keeps the others', () => {
    const { def } = definition();
    const consumers = withServiceOverrides(def, {
      consumers: { topics: { 'raw.order-events': 't1.order', 'raw.delivery-events': 't1.delivery' } },
    }).consumers?.(ctx);
    expect(consumers?.map((c) => c.topics)).toEqual([['t1.order', 'raw.payment-events'], ['t1.delivery']]);
  });

  it('a topic override no consumer reads is an error, not silently ignored', () => {
    const { def } = definition();
    const result = withServiceOverrides(def, { consumers: { topics: { 'raw.orders': 't1.orders' } } });
    expect(() => result.consumers?.(ctx)).toThrow(/no consumer reads: raw\.orders/);
  });

  it('acceptEvent filters what reaches batch and event handlers; a batch of none accepted is not handled', async () => {
    const { def, batches, events } = definition();
    const accept = (event: AnyEvent) => event.eventId === first.eventId;
    const [batch, single] =
      withServiceOverrides(def, { consumers: { acceptEvent: accept } }).consumers?.(ctx) ?? [];
    await batch?.batchHandler?.([consumed(first), consumed(second)]);
    await batch?.batchHandler?.([consumed(second)]);
    await single?.handler?.(second, handlerCtx());
    await single?.handler?.(first, handlerCtx());
    expect(batches).toEqual([[first]]);
    expect(events).toEqual([first]);
    expect(batch?.handler).toBeUndefined();
    expect(single?.batchHandler).toBeUndefined();
  });

  it('tasks: false starts no background task, without calling the definition’s', () => {
    const { def } = definition();
    const tasks = jest.fn(def.tasks);
    const result = withServiceOverrides({ ...def, tasks }, { tasks: false });
    expect(result.tasks).toBeUndefined();
    expect(tasks).not.toHaveBeenCalled();
  });

  it('does not change the definition it is given', () => {
    const { def } = definition();
    const consumers = def.consumers;
    withServiceOverrides(def, { consumers: { enabled: false, groupId: 'g' }, tasks: false });
    expect(def.consumers).toBe(consumers);
    expect(def.tasks).toBeDefined();
  });

  it('a definition without consumers stays without', () => {
    const { def } = definition();
    const { consumers: _, ...httpOnly } = def;
    expect(withServiceOverrides(httpOnly, { consumers: { groupId: 'g' } }).consumers).toBeUndefined();
  });
});
