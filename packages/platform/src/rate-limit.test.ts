import { decide, limitKind, rateLimitHeader, rateLimitPolicyHeader } from './rate-limit';

const read = { name: 'read', limit: 3, windowMs: 60_000 };

describe('rate-limit headers', () => {
  it('names the policy, its quota and window in seconds', () => {
    expect(rateLimitPolicyHeader(read)).toBe('"read";q=3;w=60');
    expect(rateLimitPolicyHeader({ name: 'orders-post', limit: 100, windowMs: 1_500 })).toBe(
      '"orders-post";q=100;w=2',
    );
  });

  it('says what is left and when the window resets', () => {
    expect(rateLimitHeader(read, { allowed: true, remaining: 2, resetSeconds: 42 })).toBe('"read";r=2;t=42');
  });
});

describe('decide', () => {
  it('allows up to the limit, then refuses, never with a negative remainder', () => {
    expect(decide(read, 1, 60_000)).toEqual({ allowed: true, remaining: 2, resetSeconds: 60 });
    expect(decide(read, 3, 1_200)).toEqual({ allowed: true, remaining: 0, resetSeconds: 2 });
    expect(decide(read, 4, 1_200)).toEqual({ allowed: false, remaining: 0, resetSeconds: 2 });
    expect(decide(read, 40, 1)).toEqual({ allowed: false, remaining: 0, resetSeconds: 1 });
  });

  it('treats a counter without a time left as a fresh window', () => {
    expect(decide(read, 1, -1).resetSeconds).toBe(60);
    expect(decide(read, 1, 0).resetSeconds).toBe(60);
  });
});

describe('limitKind', () => {
  it('counts safe methods as reads and everything else as writes', () => {
    expect(['GET', 'HEAD', 'OPTIONS', 'get'].map(limitKind)).toEqual(['read', 'read', 'read', 'read']);
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map(limitKind)).toEqual(['write', 'write', 'write', 'write']);
  });
});
