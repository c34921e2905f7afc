import { PermanentError, RetryableError } from './errors';

/**
 * What a handler's failure says about the message:
 * - `permanent`: retrying cannot help (the event's data is bad, a constraint says no): dead-letter at once.
 * - `retryable`: a dependency is down or busy, or another worker holds the order: the message is fine,
 *   so it is retried for as long as it takes and never dead-lettered.
 * - `unknown`: anything else (most likely a bug): retried up to `maxAttempts`, then dead-lettered.
 */
export type FailureKind = 'permanent' | 'retryable' | 'unknown';

/** Node socket errors of a dependency that is down, restarting or unreachable. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOTCONN',
]);

/**
 * PostgreSQL SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown, cannot
 * connect now), 58 system error, 40 transaction rollback (serialization failure, deadlock) and
 * 55P03 lock not available pass; 22 data exception (e.g. a NUL byte in text) and 23 integrity
 * constraint violation are the data's fault.
 */
const PG_RETRYABLE_CLASSES = new Set(['08', '53', '57', '58', '40']);
const PG_PERMANENT_CLASSES = new Set(['22', '23']);
const PG_RETRYABLE_CODES = new Set(['55P03']);

/** Messages of pg and ioredis for a connection that is gone or could not be made (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'connection terminated',
  'connection is closed',
  'client has encountered a connection error',
  "stream isn't writeable",
  'reached the max retries per request limit',
];

/** Redis replies that mean "not now" rather than "no". */
const REDIS_RETRYABLE_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY'];

/** Error names of cassandra-driver and kafkajs for an unreachable or overloaded cluster. */
const UNAVAILABLE_NAMES = new Set([
  'NoHostAvailableError',
  'OperationTimedOutError',
  'BusyConnectionError',
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSConnectionClosedError',
]);

/**
 * Cassandra response codes (native protocol spec §9): unavailable, overloaded, is bootstrapping,
 * truncate error, write timeout, read timeout, read failure, write failure.
 */
const CASSANDRA_RETRYABLE_CODES = new Set([0x1000, 0x1001, 0x1002, 0x1003, 0x1100, 0x1200, 0x1300, 0x1500]);

/** Error names of validation libraries: the data does not fit, and never will. */
const PERMANENT_NAMES = new Set(['ZodError', 'EnvelopeValidationError']);

/** Classifies what a handler threw, looking through `cause` chains and AggregateErrors. Pure. */
export function failureKind(error: unknown): FailureKind {
  // A retryable cause anywhere wins: a constraint error about a dropped connection is still a
  // dropped connection.
  let unknown = true;
  for (const e of causeChain(error)) {
    const kind = ownKind(e);
    if (kind === 'retryable') return 'retryable';
    if (kind === 'permanent') unknown = false;
  }
  return unknown ? 'unknown' : 'permanent';
}

function ownKind(e: object): FailureKind {
  if (e instanceof RetryableError) return 'retryable';
  if (e instanceof PermanentError) return 'permanent';
  const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNAVAILABLE_ERRNO.has(code)) return 'retryable';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      if (PG_RETRYABLE_CODES.has(code) || PG_RETRYABLE_CLASSES.has(code.slice(0, 2))) return 'retryable';
      if (PG_PERMANENT_CLASSES.has(code.slice(0, 2))) return 'permanent';
    }
  }
  if (typeof code === 'number' && name === 'ResponseError' && CASSANDRA_RETRYABLE_CODES.has(code)) {
    return 'retryable';
  }
  if (typeof name === 'string') {
    if (UNAVAILABLE_NAMES.has(name) || name === 'MaxRetriesPerRequestError') return 'retryable';
    if (PERMANENT_NAMES.has(name)) return 'permanent';
    if (name === 'ReplyError' && typeof message === 'string') {
      if (REDIS_RETRYABLE_REPLIES.some((reply) => message.startsWith(reply))) return 'retryable';
    }
  }
  if ((e as { retriable?: unknown }).retriable === true && String(name).startsWith('KafkaJS')) {
    return 'retryable';
  }
  if (typeof message === 'string') {
    const lower = message.toLowerCase();
    if (UNAVAILABLE_MESSAGES.some((m) => lower.includes(m))) return 'retryable';
  }
  return 'unknown';
}

/** The error, its causes and the members of AggregateErrors, breadth first, each once. */
function causeChain(error: unknown): object[] {
  const seen = new Set<object>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 32) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    queue.push((e as { cause?: unknown }).cause);
    if (e instanceof AggregateError) queue.push(...e.errors);
    // cassandra-driver's NoHostAvailableError keeps the per-host errors in `innerErrors`.
    const inner = (e as { innerErrors?: unknown }).innerErrors;
    if (typeof inner === 'object' && inner !== null) queue.push(...Object.values(inner));
  }
  return [...seen];
}
