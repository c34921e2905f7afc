import { randomUUID } from 'node:crypto';
import { withTransaction } from '@dispatch/platform';
import type { ClientBase, Pool } from 'pg';
import { decideOnExistingKey } from '../domain/idempotency';

/** The idempotency_keys table: claim, complete, release and expire Idempotency-Keys. */

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
  | { kind: 'claimed'; token: string; tookOver: boolean }
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
 * Claims `ref` for one request in a short transaction of its own, so concurrent requests with the same
 * key see the claim at once. A new key is inserted in_flight with a lease of `leaseMs`; an existing one
 * is read under its row lock and decided by `decideOnExistingKey`. An expired in-flight claim (its
 * request crashed) is taken over with a new token. Lease times come from the database clock, so every
 * instance agrees on them.
 */
export async function claimKey(pool: Pool, ref: KeyRef, hash: string, leaseMs: number): Promise<ClaimResult> {
  // A key released by a failed request between our insert and our read is simply claimed again; a few
  // rounds always suffice unless something keeps deleting it.
  for (let round = 1; round <= MAX_CLAIM_ROUNDS; round += 1) {
    const token = randomUUID();
    const result = await withTransaction(pool, async (tx): Promise<ClaimResult | undefined> => {
      const inserted = await tx.query(
        `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, state, claim_token, locked_until)
         VALUES ($1, $2, $3, 'in_flight', $4, now() + $5 * interval '1 millisecond')
         ON CONFLICT (scope, idempotency_key) DO NOTHING`,
        [ref.scope, ref.key, hash, token, leaseMs],
      );
      if (inserted.rowCount === 1) return { kind: 'claimed', token, tookOver: false };

      const existing = await tx.query<KeyRow>(
        `SELECT request_hash, state, locked_until > now() AS lease_active,
                GREATEST(EXTRACT(EPOCH FROM locked_until - now()) * 1000, 0)::float8 AS lease_left_ms,
                response_status, response_body, response_location
           FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2 FOR UPDATE`,
        [ref.scope, ref.key],
      );
      const row = existing.rows[0];
      // Released by a failed request between our insert and this read: try again.
      if (!row) return undefined;
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
          await tx.query(
            `UPDATE idempotency_keys SET claim_token = $3, locked_until = now() + $4 * interval '1 millisecond'
              WHERE scope = $1 AND idempotency_key = $2`,
            [ref.scope, ref.key, token, leaseMs],
          );
          return { kind: 'claimed', token, tookOver: true };
      }
    });
    if (result) return result;
  }
  throw new Error(`could not claim Idempotency-Key after ${MAX_CLAIM_ROUNDS} rounds`);
}

/**
 * Stores the response and marks the key completed, inside the order transaction `tx`. False when this
 * request no longer holds the claim (its lease expired and a retry took the key over): the caller must
 * then roll back, so only one request ever creates the order.
 */
export async function completeKey(
  tx: ClientBase,
  ref: KeyRef,
  token: string,
  orderId: string,
  response: StoredResponse,
): Promise<boolean> {
  const result = await tx.query(
    `UPDATE idempotency_keys
        SET state = 'completed', order_id = $4, response_status = $5, response_body = $6,
            response_location = $7, completed_at = now()
      WHERE scope = $1 AND idempotency_key = $2 AND claim_token = $3 AND state = 'in_flight'`,
    [ref.scope, ref.key, token, orderId, response.status, response.body, response.location],
  );
  return result.rowCount === 1;
}

/** Gives up a claim after a failed request, so the key can be used again at once. */
export async function releaseKey(pool: Pool, ref: KeyRef, token: string): Promise<void> {
  await pool.query(
    `DELETE FROM idempotency_keys
      WHERE scope = $1 AND idempotency_key = $2 AND claim_token = $3 AND state = 'in_flight'`,
    [ref.scope, ref.key, token],
  );
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
