import type { AnyEvent } from '@dispatch/contracts';
import type { BatchHandler, EventHandler } from './kafka';
import type { ConsumerDefinition, ServiceDefinition } from './service';

/**
 * How a caller of startService (a test, in practice) changes a definition's consumers without the
 * service knowing: the one way to keep a test instance off the shared raw topics and groups, instead
 * of options in each service's definition.
 */
export interface ConsumerOverrides {
  /**
   * false: no consumer runs (HTTP-only instances). The definition's consumers are still built, so
   * what building them registers (metrics, say) is there as in production. Default true.
   */
  enabled?: boolean;
  /** Every consumer joins this group instead of its own (the lag metrics follow). */
  groupId?: string;
  /**
   * Topics read instead of the definition's, by the topic they replace: a consumer of
   * `raw.order-events` given `{ 'raw.order-events': 't1.raw.order-events' }` reads only the latter.
   * Topics not named are read as defined; naming one no consumer reads is an error.
   */
  topics?: Readonly<Record<string, string>>;
  /**
   * Events for which this returns false are acknowledged untouched, as if of a type the consumer
   * does not handle (never handled, nothing recorded): a test instance acts only on its own events.
   */
  acceptEvent?: (event: AnyEvent) => boolean;
}

/** What a test may change of a service definition. */
export interface ServiceOverrides {
  consumers?: ConsumerOverrides;
  /** false: the background tasks (schedulers, sweepers, dispatchers) are not started. Default true. */
  tasks?: boolean;
}

/** The definition with `overrides` applied (pure: nothing runs until startService is given it). */
export function withServiceOverrides(
  definition: ServiceDefinition,
  overrides: ServiceOverrides = {},
): ServiceDefinition {
  const { consumers: consumerOverrides = {}, tasks: runTasks = true } = overrides;
  const { consumers, tasks, ...rest } = definition;
  return {
    ...rest,
    ...(consumers ? { consumers: (ctx) => overrideConsumers(consumers(ctx), consumerOverrides) } : {}),
    ...(tasks && runTasks ? { tasks } : {}),
  };
}

function overrideConsumers(defs: ConsumerDefinition[], overrides: ConsumerOverrides): ConsumerDefinition[] {
  const { enabled = true, groupId, topics, acceptEvent } = overrides;
  if (topics) {
    const read = new Set(defs.flatMap((d) => d.topics));
    const unknown = Object.keys(topics).filter((topic) => !read.has(topic));
    if (unknown.length > 0) {
      throw new Error(`topic overrides name topics no consumer reads: ${unknown.join(', ')}`);
    }
  }
  if (!enabled) return [];
  return defs.map((def) => ({
    ...def,
    ...(groupId !== undefined ? { groupId } : {}),
    ...(topics ? { topics: def.topics.map((topic) => topics[topic] ?? topic) } : {}),
    ...(acceptEvent && def.handler ? { handler: acceptedOnly(def.handler, acceptEvent) } : {}),
    ...(acceptEvent && def.batchHandler
      ? { batchHandler: acceptedBatchOnly(def.batchHandler, acceptEvent) }
      : {}),
  }));
}

function acceptedOnly(handler: EventHandler, accept: (event: AnyEvent) => boolean): EventHandler {
  return async (event, ctx) => {
    if (accept(event)) await handler(event, ctx);
  };
}

function acceptedBatchOnly(handler: BatchHandler, accept: (event: AnyEvent) => boolean): BatchHandler {
  return async (consumed) => {
    const accepted = consumed.filter((c) => accept(c.event));
    if (accepted.length > 0) await handler(accepted);
  };
}
