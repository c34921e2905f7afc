import { errorMessage, PermanentError, RetryableError } from './errors';
import { nextOffset } from './lane-runner';
import { failureAction, resolveRetryOptions } from './retry-policy';

describe('failureAction', () => {
  it('retries unknown failures until the last attempt, then dead-letters as exhausted', () => {
    const unknown = new Error('boom');
    expect(failureAction(unknown, 1, 5)).toEqual({ action: 'retry' });
    expect(failureAction(unknown, 4, 5)).toEqual({ action: 'retry' });
    expect(failureAction(unknown, 5, 5)).toEqual({ action: 'dead-letter', reason: 'exhausted' });
    expect(failureAction('a thrown string', 1, 1)).toEqual({ action: 'dead-letter', reason: 'exhausted' });
  });

  it('retries a dependency outage however many attempts it takes: it is never dead-lettered', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(failureAction(refused, 5, 5)).toEqual({ action: 'retry' });
    expect(failureAction(new RetryableError('lock held'), 10_000, 5)).toEqual({ action: 'retry' });
  });

  it('dead-letters a deterministic database error (bad data) at once', () => {
    const nul = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: '22021',
    });
    expect(failureAction(nul, 1, 30)).toEqual({ action: 'dead-letter', reason: 'permanent' });
  });

  it('dead-letters a PermanentError at once', () => {
    expect(failureAction(new PermanentError('unknown order'), 1, 5)).toEqual({
      action: 'dead-letter',
      reason: 'permanent',
    });
  });

  it('treats subclasses of PermanentError as permanent', () => {
    class UnknownOrderError extends PermanentError {}
    expect(failureAction(new UnknownOrderError('x'), 2, 5)).toMatchObject({ reason: 'permanent' });
  });
});

describe('nextOffset', () => {
  it('adds one without losing 64-bit precision', () => {
    expect(nextOffset('0')).toBe('1');
    expect(nextOffset('41')).toBe('42');
    expect(nextOffset('9007199254740992')).toBe('9007199254740993');
  });
});

describe('resolveRetryOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveRetryOptions()).toEqual({ maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 });
    expect(resolveRetryOptions({ maxAttempts: 2 })).toEqual({
      maxAttempts: 2,
      initialDelayMs: 100,
      maxDelayMs: 5_000,
    });
  });

  it('rejects settings that make no sense', () => {
    expect(() => resolveRetryOptions({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveRetryOptions({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
  });
});

describe('errorMessage', () => {
  it('describes whatever was thrown', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new TypeError(''))).toBe('TypeError');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 42 })).toBe('{"code":42}');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
