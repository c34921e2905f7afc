import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The signature header of every webhook request, in the well-known form
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, with one `v1` per secret in force
 * (two during a rotation's overlap: the new secret's first). docs/webhook-service.md shows a receiver.
 */
export const SIGNATURE_HEADER = 'Dispatch-Signature';
/** The event's id: the same on every attempt and every redelivery, for the receiver's dedup. */
export const EVENT_ID_HEADER = 'Dispatch-Event-Id';
export const EVENT_TYPE_HEADER = 'Dispatch-Event-Type';
/** This delivery's id (a redelivery gets a new one); the id GET …/deliveries lists. */
export const DELIVERY_ID_HEADER = 'Dispatch-Delivery-Id';

/** Secrets are 32 random bytes, base64url, with a prefix that tells what they are when one leaks. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function hmacHex(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

/** The header value for `rawBody` sent at `timestamp` (unix seconds), signed with every secret. */
export function signatureHeader(secrets: readonly string[], timestamp: number, rawBody: string): string {
  if (secrets.length === 0) throw new Error('a webhook signature needs at least one secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error('timestamp: unix seconds expected');
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${hmacHex(s, timestamp, rawBody)}`)].join(',');
}

export interface ParsedSignature {
  timestamp: number;
  v1: string[];
}

/** Parses a signature header; undefined when it is not of the documented form. Unknown schemes are ignored. */
export function parseSignatureHeader(value: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const v1: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(val) || timestamp !== undefined) return undefined;
      timestamp = Number(val);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(val)) return undefined;
      v1.push(val);
    }
  }
  return timestamp === undefined || v1.length === 0 ? undefined : { timestamp, v1 };
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * What a receiver does (and what the tests do): the header parses, its timestamp is within
 * `toleranceSeconds` of `nowSeconds`, and one of its v1 values equals the HMAC of the raw body
 * under `secret`, compared in constant time.
 */
export function verifySignature(opts: {
  header: string;
  rawBody: string;
  secret: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): VerifyResult {
  const parsed = parseSignatureHeader(opts.header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (Math.abs(opts.nowSeconds - parsed.timestamp) > (opts.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'stale' };
  }
  const expected = Buffer.from(hmacHex(opts.secret, parsed.timestamp, opts.rawBody), 'hex');
  const match = parsed.v1.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
  return match ? { ok: true, timestamp: parsed.timestamp } : { ok: false, reason: 'mismatch' };
}

/** The secrets to sign with at `now`: the current one, and the previous one while its overlap lasts. */
export function secretsInForce(
  endpoint: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now: Date,
): string[] {
  const secrets = [endpoint.secret];
  if (
    endpoint.previousSecret &&
    endpoint.previousSecretExpiresAt &&
    endpoint.previousSecretExpiresAt.getTime() > now.getTime()
  ) {
    secrets.push(endpoint.previousSecret);
  }
  return secrets;
}
