import { PermanentError, RetryableError } from './errors';
import { failureKind } from './failure';

/** An error shaped like the ones the clients throw (they are classified by code/name/message). */
function clientError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('failureKind', () => {
  it.each([
    ['a RetryableError', new RetryableError('lock held')],
    [
      'connection refused (errno)',
      clientError('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
    ],
    ['a reset socket', clientError('read ECONNRESET', { code: 'ECONNRESET' })],
    ['pg pool checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['pg connection lost', new Error('Connection terminated unexpectedly')],
    ['pg too many connections (53300)', clientError('sorry, too many clients already', { code: '53300' })],
    [
      'pg admin shutdown (57P01)',
      clientError('terminating connection due to administrator command', { code: '57P01' }),
    ],
    ['pg serialization failure (40001)', clientError('could not serialize access', { code: '40001' })],
    ['pg deadlock (40P01)', clientError('deadlock detected', { code: '40P01' })],
    ['pg lock not available (55P03)', clientError('could not obtain lock', { code: '55P03' })],
    ['ioredis closed connection', new Error('Connection is closed.')],
    [
      'ioredis offline',
      clientError('Reached the max retries per request limit (which is 1).', {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    [
      'Redis LOADING reply',
      clientError('LOADING Redis is loading the dataset in memory', { name: 'ReplyError' }),
    ],
    ['Cassandra down', clientError('All host(s) tried for query failed', { name: 'NoHostAvailableError' })],
    ['Cassandra timeout', clientError('Operation timed out', { name: 'OperationTimedOutError' })],
    [
      'Cassandra unavailable (0x1000)',
      clientError('Not enough replicas', { name: 'ResponseError', code: 0x1000 }),
    ],
    [
      'Cassandra write timeout (0x1100)',
      clientError('write timeout', { name: 'ResponseError', code: 0x1100 }),
    ],
    ['kafkajs connection error', clientError('Connection error', { name: 'KafkaJSConnectionError' })],
    [
      'a retriable kafkajs protocol error',
      clientError('leader not available', { name: 'KafkaJSProtocolError', retriable: true }),
    ],
    [
      'connection refused as the cause of a wrapper',
      new Error('saving failed', { cause: clientError('x', { code: 'ECONNREFUSED' }) }),
    ],
    [
      'connection refused inside an AggregateError',
      new AggregateError([clientError('x', { code: 'ECONNREFUSED' })], ''),
    ],
    [
      'a constraint error caused by a dropped connection',
      new PermanentError('no', { cause: new Error('Connection terminated') }),
    ],
  ])('%s is retryable', (_what, error) => {
    expect(failureKind(error)).toBe('retryable');
  });

  it.each([
    ['a PermanentError', new PermanentError('unknown order')],
    [
      'pg NUL byte in text (22021)',
      clientError('invalid byte sequence for encoding "UTF8": 0x00', { code: '22021' }),
    ],
    ['pg numeric overflow (22003)', clientError('numeric field overflow', { code: '22003' })],
    ['pg unique violation (23505)', clientError('duplicate key value', { code: '23505' })],
    ['pg check violation (23514)', clientError('violates check constraint', { code: '23514' })],
    ['a zod error', clientError('invalid', { name: 'ZodError' })],
    ['a PermanentError wrapping an unknown error', new PermanentError('bad', { cause: new TypeError('x') })],
  ])('%s is permanent', (_what, error) => {
    expect(failureKind(error)).toBe('permanent');
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a TypeError (a bug)', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['pg undefined table (42P01)', clientError('relation "x" does not exist', { code: '42P01' })],
    [
      'a non-retriable kafkajs error',
      clientError('unknown', { name: 'KafkaJSProtocolError', retriable: false }),
    ],
    [
      'Cassandra invalid query (0x2200)',
      clientError('Undefined column', { name: 'ResponseError', code: 0x2200 }),
    ],
    ['a Redis WRONGTYPE reply', clientError('WRONGTYPE Operation against a key', { name: 'ReplyError' })],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
  ])('%s is unknown', (_what, error) => {
    expect(failureKind(error)).toBe('unknown');
  });

  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(failureKind(a)).toBe('unknown');
  });
});
