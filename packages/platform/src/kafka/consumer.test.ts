import { failureAction, nextOffset, resolveRetryOptions } from './consumer';
import { errorMessage, PermanentError } from './errors';

describe('failureAction', () => {
  it('retries transient failures until the last attempt, then dead-letters as exhausted', () => {
    const transient = new Error('connection reset');
    expect(failureAction(transient, 1, 5)).toEqual({ action: 'retry' });
    expect(failureAction(transient, 4, 5)).toEqual({ action: 'retry' });
    expect(failureAction(transient, 5, 5)).toEqual({ action: 'dead-letter', reason: 'exhausted' });
    expect(failureAction('a thrown string', 1, 1)).toEqual({ action: 'dead-letter', reason: 'exhausted' });
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
