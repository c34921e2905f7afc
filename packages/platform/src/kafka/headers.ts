import type { IHeaders } from 'kafkajs';

/**
 * Kafka header values as strings (UTF-8). A header repeated under one key arrives as an array;
 * the last value wins, as with the Java client's `lastHeader`.
 */
export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  if (!headers) return decoded;
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    decoded[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return decoded;
}

/** A record read from Kafka, with its headers decoded to strings. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit; kept as a decimal string. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}
