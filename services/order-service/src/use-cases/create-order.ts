import { randomUUID } from 'node:crypto';
import { enqueue, ForbiddenError, type Logger, withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import { requestHash } from '../domain/idempotency';
import { draftOrder, type NewOrder, type OrderDraft } from '../domain/order';
import type { OrderMetrics } from '../metrics';
import { claimKey, completeKey, type KeyRef, releaseKey, type StoredResponse } from '../store/idempotency';
import { insertOrder } from '../store/orders';
import type { Caller } from './caller';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from './errors';

export interface CreateOrderDeps {
  pool: Pool;
  metrics: OrderMetrics;
  logger: Logger;
  idempotencyLeaseMs: number;
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

/**
 * Creates an order: the order row, its lines and order.created in the outbox commit in one transaction.
 *
 * With an Idempotency-Key the key is first claimed in a short transaction of its own; the stored
 * response is then committed in the order transaction, only while this request still holds the claim.
 * So a retried POST never creates a second order: it gets the stored response (same body), 409 while
 * the first request runs, or 422 for a different body. A failed request releases its claim.
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
    await withTransaction(deps.pool, (tx) => writeOrder(tx, draft, cmd.traceparent));
    deps.metrics.ordersCreated.inc({ currency: draft.currency });
    return { ...response, replayed: false };
  }

  const ref: KeyRef = { scope: cmd.caller.subject, key: cmd.idempotencyKey };
  const claim = await claimKey(deps.pool, ref, requestHash(cmd.rawBody), deps.idempotencyLeaseMs);
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
  }

  try {
    await withTransaction(deps.pool, async (tx) => {
      await writeOrder(tx, draft, cmd.traceparent);
      const stillOurs = await completeKey(tx, ref, claim.token, draft.orderId, response);
      if (!stillOurs) {
        // Our lease expired and a retry took the key over: it creates the order, we must not.
        throw new IdempotencyKeyInFlightError(
          1,
          'This request took too long and a retry with the same Idempotency-Key took over; retry to get its response.',
        );
      }
    });
  } catch (err) {
    await releaseKey(deps.pool, ref, claim.token).catch((releaseErr: unknown) =>
      deps.logger.warn(
        { err: releaseErr },
        'could not release an Idempotency-Key claim; it expires with its lease',
      ),
    );
    throw err;
  }
  deps.metrics.ordersCreated.inc({ currency: draft.currency });
  return { ...response, replayed: false };
}

async function writeOrder(tx: ClientBase, draft: OrderDraft, traceparent: string | undefined): Promise<void> {
  await insertOrder(tx, draft);
  await enqueue(tx, [draft.created], traceparent ? { traceparent } : {});
}
