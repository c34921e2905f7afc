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
