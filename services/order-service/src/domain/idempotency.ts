import { createHash } from 'node:crypto';

/**
 * Idempotency-Key rules (Stripe semantics), pure.
 *
 * A key is 1-255 printable ASCII characters. The same key with the same body answers what the first
 * request answered; with a different body it is refused (422); while the first request with that key
 * is still running the retry is refused (409) until it finishes or its lease expires.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;

/**
 * JSON with object keys sorted at every level (arrays keep their order), so two bodies that differ
 * only in key order or whitespace are the same request.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
  }
  return value;
}

/** sha256 (hex) of the canonical JSON of a request body. */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(body ?? null), 'utf8')
    .digest('hex');
}

export interface ExistingKey {
  requestHash: string;
  state: 'in_flight' | 'completed';
  /** The in-flight claim's lease has not expired yet. */
  leaseActive: boolean;
}

export type ExistingKeyDecision =
  /** Same body, finished: answer the stored response. */
  | 'replay'
  /** Different body: 422, whatever the state of the first request. */
  | 'mismatch'
  /** Same body, the first request still holds the key: 409. */
  | 'in-flight'
  /** Same body, the first request's lease expired (it crashed): this request takes the key over. */
  | 'take-over';

/** What to do with a request whose key is already recorded. */
export function decideOnExistingKey(existing: ExistingKey, hash: string): ExistingKeyDecision {
  if (existing.requestHash !== hash) return 'mismatch';
  if (existing.state === 'completed') return 'replay';
  return existing.leaseActive ? 'in-flight' : 'take-over';
}
