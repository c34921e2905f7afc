/**
 * Cassandra write timestamps (`USING TIMESTAMP`, microseconds) derived from an event, so that
 * Cassandra's last-write-wins keeps the same event the contract's fold keeps.
 *
 * The fold ranks competing events by occurredAt (milliseconds, as `instant()` normalises them),
 * then by eventId as a string. A millisecond holds 1000 microseconds, so the microsecond part
 * carries the eventId tie-break: the rank of its first two characters among the 22 characters a
 * UUID can contain ("0-9A-Fa-f", in string order), 0..483. The mapping is monotone in the fold's
 * string order, so within one millisecond a larger eventId gets a larger timestamp. Two events of
 * one group in the same millisecond whose eventIds also share their first two characters get the
 * same timestamp; Cassandra then decides per cell (deterministically, but not necessarily as the
 * fold would) — rare enough (same-millisecond duplicates with different ids) to accept.
 *
 * latest wins:   t = occurredAtMs × 1000 + tieBreak             (larger = later = wins)
 * earliest wins: t = 10^16 − (occurredAtMs × 1000 + tieBreak)   (larger = earlier = wins)
 *
 * 10^16 µs is the year 2286, so both stay positive 64-bit values. Earliest-wins cells therefore
 * carry timestamps far in the future: a cluster with the `maximum_timestamp` guardrail enabled
 * must allow them (docs/query-api.md).
 */

const UUID_CHARACTERS = '0123456789ABCDEFabcdef';
const EARLIEST_BASE = 10n ** 16n;

export class WriteTimeError extends Error {
  override readonly name = 'WriteTimeError';
}

/** 0..483, monotone in the string order of the eventId's first two characters. */
export function tieBreak(eventId: string): number {
  const first = UUID_CHARACTERS.indexOf(eventId.charAt(0));
  const second = UUID_CHARACTERS.indexOf(eventId.charAt(1));
  if (first < 0 || second < 0) {
    throw new WriteTimeError(`eventId '${eventId}' does not start with two UUID characters`);
  }
  return first * UUID_CHARACTERS.length + second;
}

function epochMillis(at: string | Date): number {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (!Number.isFinite(ms)) throw new WriteTimeError(`not a date-time: '${String(at)}'`);
  return ms;
}

/** The write timestamp with which the latest (at, eventId) wins. */
export function latestWins(at: string | Date, eventId: string): bigint {
  return BigInt(epochMillis(at)) * 1000n + BigInt(tieBreak(eventId));
}

/** The write timestamp with which the earliest (at, eventId) wins. */
export function earliestWins(at: string | Date, eventId: string): bigint {
  return EARLIEST_BASE - latestWins(at, eventId);
}
