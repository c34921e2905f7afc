import { randomUUID } from 'node:crypto';
import type { ClientBase, Pool } from 'pg';
import { decideOnExistingKey } from '../domain/idempotency';

/**
 * The idempotency_keys table: claim (and complete) a key inside the order transaction, expire old keys.
 *
 * A key is claimed in the same transaction that inserts its order and order.created, stored already
 * `completed` with the response: the claim, the order and the stored answer commit together or not
 * at all, so there is no half-done claim to release after a failure or to take over after a crash.
 * Rows `in_flight` (with a lease until `locked_until`) are only ever written by the previous version,
 * which claimed keys in a transaction of their own; they are still honoured (409 while the lease runs,
 * taken over once it has expired).
 */

export interface KeyRef {
  /** Whose key it is: the caller (token subject). */
  scope: string;
  key: string;
}

/** A response as first answered, replayed byte for byte. */
export interface StoredResponse {
  status: number;
  body: string;
  location: string | null;
}

export type ClaimResult =
  | { kind: 'claimed'; tookOver: boolean }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in-flight'; retryAfterSeconds: number };

const MAX_CLAIM_ROUNDS = 5;

interface KeyRow {
  request_hash: string;
  state: 'in_flight' | 'completed';
  lease_active: boolean;
  lease_left_ms: number;
  response_status: number | null;
  response_body: string | null;
  response_location: string | null;
}

/**
 * Claims `ref` for the order `orderId` inside the order transaction `tx`, storing `response` as the
 * key's answer; the order row must already be inserted in `tx` (the key references it). `claimed`
 * means the key is ours and completes when `tx` commits; any other result means the key belongs to an
 * earlier request and `tx` must roll back (the caller answers with the result instead).
 *
 * The happy path is one statement: INSERT … ON CONFLICT DO NOTHING RETURNING. When a concurrent request
 * with the same key has inserted it but not committed yet, PostgreSQL makes that INSERT wait for it:
 * if it commits, this request then finds its stored answer (a replay); if it rolls back, this request
 * claims the key. Only on a conflict is the existing row read (under its row lock) and decided by
 * `decideOnExistingKey`; an expired in-flight claim is taken over in place. Times come from the
 * database clock, so every instance agrees on leases.
 */
export async function claimKey(
  tx: ClientBase,
  ref: KeyRef,
  hash: string,
  orderId: string,
  response: StoredResponse,
): Promise<ClaimResult> {
  const token = randomUUID();
  // A key deleted between our insert and our read (a retention sweep, or a claim the previous version
  // released) is simply claimed again; a few rounds always suffice unless something keeps deleting it.
  for (let round = 1; round <= MAX_CLAIM_ROUNDS; round += 1) {
    const inserted = await tx.query(
      `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, state, claim_token, locked_until,
                                     order_id, response_status, response_body, response_location, completed_at)
       VALUES ($1, $2, $3, 'completed', $4, now(), $5, $6, $7, $8, now())
       ON CONFLICT (scope, idempotency_key) DO NOTHING
       RETURNING 1`,
      [ref.scope, ref.key, hash, token, orderId, response.status, response.body, response.location],
    );
    if (inserted.rowCount === 1) return { kind: 'claimed', tookOver: false };

    const existing = await tx.query<KeyRow>(
      `SELECT request_hash, state, locked_until > now() AS lease_active,
              GREATEST(EXTRACT(EPOCH FROM locked_until - now()) * 1000, 0)::float8 AS lease_left_ms,
              response_status, response_body, response_location
         FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2 FOR UPDATE`,
      [ref.scope, ref.key],
    );
    const row = existing.rows[0];
    if (!row) continue;
    const decision = decideOnExistingKey(
      { requestHash: row.request_hash, state: row.state, leaseActive: row.lease_active },
      hash,
    );
    switch (decision) {
      case 'mismatch':
        return { kind: 'mismatch' };
      case 'in-flight':
        return { kind: 'in-flight', retryAfterSeconds: Math.max(1, Math.ceil(row.lease_left_ms / 1000)) };
      case 'replay':
        return {
          kind: 'replay',
          response: {
            status: row.response_status ?? 200,
            body: row.response_body ?? '',
            location: row.response_location,
          },
        };
      case 'take-over':
        // The row is locked (FOR UPDATE above), so no one else takes it over meanwhile.
        await tx.query(
          `UPDATE idempotency_keys
              SET state = 'completed', claim_token = $3, locked_until = now(), order_id = $4,
                  response_status = $5, response_body = $6, response_location = $7, completed_at = now()
            WHERE scope = $1 AND idempotency_key = $2`,
          [ref.scope, ref.key, token, orderId, response.status, response.body, response.location],
        );
        return { kind: 'claimed', tookOver: true };
    }
  }
  throw new Error(`could not claim Idempotency-Key after ${MAX_CLAIM_ROUNDS} rounds`);
}

/** Deletes keys completed (or abandoned in flight) more than `retentionHours` ago. Returns how many. */
export async function deleteExpiredKeys(pool: Pool, retentionHours: number): Promise<number> {
  const result = await pool.query(
    `DELETE FROM idempotency_keys
      WHERE (state = 'completed' AND completed_at < now() - $1 * interval '1 hour')
         OR (state = 'in_flight' AND locked_until < now() - $1 * interval '1 hour')`,
    [retentionHours],
  );
  return result.rowCount ?? 0;
}
