import { randomUUID } from 'node:crypto';
import { enqueue, ForbiddenError, type Logger, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import { requestHash } from '../domain/idempotency';
import { draftOrder, type NewOrder, type OrderDraft } from '../domain/order';
import type { OrderMetrics } from '../metrics';
import { type ClaimResult, claimKey, type KeyRef, type StoredResponse } from '../store/idempotency';
import { insertOrder } from '../store/orders';
import type { Caller } from './caller';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from './errors';

export interface CreateOrderDeps {
  pool: Pool;
  metrics: OrderMetrics;
  logger: Logger;
}

export interface CreateOrderCommand {
  caller: Caller;
  order: NewOrder;
  /** The JSON body as received; its canonical sha256 binds an Idempotency-Key to the request. */
  rawBody: unknown;
  idempotencyKey?: string;
  traceparent?: string;
}

/** What the route sends: the stored bytes on a replay, so replays are byte-identical. */
export interface CreateOrderAnswer extends StoredResponse {
  replayed: boolean;
}

/** Rolls the order transaction back when the key belongs to an earlier request, carrying its answer. */
class KeyNotClaimed extends Error {
  constructor(readonly claim: Exclude<ClaimResult, { kind: 'claimed' }>) {
    super(`Idempotency-Key not claimed: ${claim.kind}`);
  }
}

/**
 * Creates an order: the order row, its lines and order.created in the outbox commit in one transaction.
 *
 * With an Idempotency-Key, the key is claimed in that same transaction and stored with the response
 * (see claimKey), so one checkout and one commit do it all: key, order and answer commit together or
 * not at all. A retried POST never creates a second order: it gets the stored response (same body);
 * one sent while the first is still committing waits for it and then gets its response; a different
 * body gets 422. A failed request leaves nothing behind, so the key is free for a retry at once.
 */
export async function createOrder(
  deps: CreateOrderDeps,
  cmd: CreateOrderCommand,
): Promise<CreateOrderAnswer> {
  if (!cmd.caller.isAdmin && cmd.order.customerId !== cmd.caller.subject) {
    throw new ForbiddenError('customerId must be your own customer id (the subject of your token).');
  }
  const draft = draftOrder(cmd.order, {
    orderId: randomUUID(),
    eventId: randomUUID(),
    createdAt: new Date().toISOString(),
  });
  const response: StoredResponse = {
    status: 201,
    body: JSON.stringify(draft.response),
    location: `/api/orders/${draft.orderId}`,
  };

  if (cmd.idempotencyKey === undefined) {
    await withTransaction(deps.pool, async (tx) => {
      await insertOrder(tx, draft);
      await enqueueCreated(tx, draft, cmd.traceparent);
    });
    deps.metrics.ordersCreated.inc({ currency: draft.currency });
    return { ...response, replayed: false };
  }

  const ref: KeyRef = { scope: cmd.caller.subject, key: cmd.idempotencyKey };
  const hash = requestHash(cmd.rawBody);
  let claim: ClaimResult;
  try {
    claim = await withTransaction(deps.pool, async (tx) => {
      // The order first: the key row references it.
      await insertOrder(tx, draft);
      const result = await claimKey(tx, ref, hash, draft.orderId, response);
      if (result.kind !== 'claimed') throw new KeyNotClaimed(result);
      await enqueueCreated(tx, draft, cmd.traceparent);
      return result;
    });
  } catch (err) {
    if (!(err instanceof KeyNotClaimed)) throw err;
    claim = err.claim;
  }

  switch (claim.kind) {
    case 'mismatch':
      throw new IdempotencyKeyReusedError();
    case 'in-flight':
      throw new IdempotencyKeyInFlightError(claim.retryAfterSeconds);
    case 'replay':
      deps.metrics.idempotentReplays.inc();
      return { ...claim.response, replayed: true };
    case 'claimed':
      if (claim.tookOver)
        deps.logger.warn({ idempotencyKey: ref.key }, 'took over an expired Idempotency-Key claim');
      deps.metrics.ordersCreated.inc({ currency: draft.currency });
      return { ...response, replayed: false };
  }
}

function enqueueCreated(tx: ClientBase, draft: OrderDraft, traceparent: string | undefined) {
  return enqueue(tx, [draft.created], traceparent ? { traceparent } : {});
}
