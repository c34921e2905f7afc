import { type AnyEvent, type EventEnvelope, type EventType, TRACEPARENT_HEADER } from '@dispatch/contracts';
import type { Pool, PoolClient } from 'pg';
import { recordInboxBatch } from './inbox';
import type { BatchHandler, ConsumedEvent } from './kafka';
import { enqueueEntries, type OutboxEntry } from './outbox';
import { withTransaction } from './pg';
import { currentTraceparent, withConsumerSpan, withConsumerSpans } from './tracing-context';

/** What a saga step gets for one consumed event inside its batch's transaction. */
export interface StepContext extends ConsumedEvent {
  /** The batch's transaction: every effect of the step goes through it. */
  tx: PoolClient;
  /** Events this step produces; written to the outbox with the batch, published iff it commits. */
  emit(...events: AnyEvent[]): void;
  /** Runs once the batch has committed (metrics, logs); never when it rolls back. */
  afterCommit(fn: () => void): void;
}

/** One saga step: the effect of one first-delivered event, inside its batch's transaction. */
export type EventStep = (step: StepContext) => Promise<void>;

/** One step's context with its event narrowed to the type the step handles. */
export type StepOf<E extends AnyEvent> = StepContext & { event: E };

/** A service's steps by the event type each handles. */
export type StepsByEventType = {
  [T in EventType]?: (step: StepContext & { event: EventEnvelope<T> }) => Promise<void>;
};

/** The EventStep that runs each event's step by its type; an event of a type without one changes nothing. */
export function stepsByEventType(steps: StepsByEventType): EventStep {
  return async (step) => {
    // The map's key and its step's event type are the same T, which TypeScript cannot follow.
    const run = steps[step.event.eventType] as EventStep | undefined;
    if (run) await run(step);
  };
}

export interface PgBatchHandlerOptions {
  pool: Pool;
  /** The inbox's consumer name (the service's). */
  inboxConsumer: string;
  /** Each first-delivered event's own effect, in offset order (omitted when `prepare` does it all). */
  step?: EventStep;
  /**
   * Runs first in the transaction with the batch's first deliveries: e.g. takes the row locks the
   * steps will take, all at once and in one fixed order, so two batches never deadlock; or, for a
   * consumer that only records events (no saga step), the whole batch's work in a few statements.
   */
  prepare?: (
    tx: PoolClient,
    events: readonly AnyEvent[],
    batch: { afterCommit(fn: () => void): void },
  ) => Promise<void>;
}

/**
 * The usual batch handler of a service with a database: one transaction for the whole batch. The
 * inbox records every event id in one statement and only first deliveries run their step, in offset
 * order; the events the steps emit go into the outbox in one insert; then it commits. If any step
 * throws, the whole batch rolls back and the consumer retries its events one at a time.
 */
export function pgBatchHandler(opts: PgBatchHandlerOptions): BatchHandler {
  return async (items) => {
    const afterCommit = await withTransaction(opts.pool, async (tx) => {
      const firsts = await recordInboxBatch(
        tx,
        opts.inboxConsumer,
        items.map(({ event }) => ({ eventId: event.eventId, eventType: event.eventType })),
      );
      const fresh = items.filter(({ event }) => firsts.take(event.eventId));
      for (const item of items) {
        if (!fresh.includes(item)) item.logger.debug(`${item.event.eventType} already handled (inbox)`);
      }
      const outbox: OutboxEntry[] = [];
      const pending: (() => void)[] = [];
      const { prepare } = opts;
      if (prepare && fresh.length > 0) {
        const run = () =>
          prepare(
            tx,
            fresh.map((i) => i.event),
            { afterCommit: (fn) => pending.push(fn) },
          );
        // Without steps, prepare is the events' processing: each event still gets its consumer span.
        await (opts.step ? run() : withConsumerSpans(fresh, run));
      }
      const { step } = opts;
      for (const item of fresh) {
        if (!step) break;
        // Each step runs in its event's consumer span, so what it emits carries that trace.
        await withConsumerSpan(item.topic, item.event.eventType, item.headers, () =>
          step({
            ...item,
            tx,
            emit: (...events) => {
              const traceparent = currentTraceparent();
              const headers: Record<string, string> = traceparent
                ? { [TRACEPARENT_HEADER]: traceparent }
                : {};
              for (const event of events) outbox.push({ event, headers });
            },
            afterCommit: (fn) => pending.push(fn),
          }),
        );
      }
      await enqueueEntries(tx, outbox);
      return pending;
    });
    for (const fn of afterCommit) fn();
  };
}
