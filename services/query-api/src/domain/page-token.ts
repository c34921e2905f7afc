import { createHash } from 'node:crypto';

/**
 * The `pageState` clients pass back for the next page of GET /api/orders: Cassandra's paging
 * state wrapped so it is opaque, URL-safe and bound to the customer it was issued for.
 *
 *   base64url( version (1 byte) | sha256(customerId)[0..8) | Cassandra paging state )
 *
 * The binding stops a token of one listing from being replayed against another customer's
 * partition. The paging state itself is Cassandra's to validate (a tampered one is refused by
 * the server, and answered 400 as well).
 */

const VERSION = 1;
const BINDING_BYTES = 8;
const MAX_TOKEN_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class PageTokenError extends Error {
  override readonly name = 'PageTokenError';
}

function binding(customerId: string): Buffer {
  return createHash('sha256').update(customerId).digest().subarray(0, BINDING_BYTES);
}

export function encodePageToken(customerId: string, pagingState: Buffer): string {
  return Buffer.concat([Buffer.from([VERSION]), binding(customerId), pagingState]).toString('base64url');
}

/** The paging state inside `token`; throws PageTokenError when it is malformed or another listing's. */
export function decodePageToken(customerId: string, token: string): Buffer {
  if (token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) {
    throw new PageTokenError('is not a page token issued by this API');
  }
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length <= 1 + BINDING_BYTES || bytes[0] !== VERSION) {
    throw new PageTokenError('is not a page token issued by this API');
  }
  if (!bytes.subarray(1, 1 + BINDING_BYTES).equals(binding(customerId))) {
    throw new PageTokenError('belongs to a different listing (another customerId)');
  }
  return bytes.subarray(1 + BINDING_BYTES);
}
