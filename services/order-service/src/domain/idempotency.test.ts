import { canonicalJson, decideOnExistingKey, requestHash } from './idempotency';

describe('canonicalJson / requestHash', () => {
  it('ignores key order and whitespace, at every level', () => {
    const a = { b: 1, a: { y: [1, { q: 2, p: 1 }], x: 'v' } };
    const b = JSON.parse('{ "a": { "x": "v", "y": [1, {"p": 1, "q": 2}] }, "b": 1 }');
    expect(canonicalJson(a)).toBe('{"a":{"x":"v","y":[1,{"p":1,"q":2}]},"b":1}');
    expect(requestHash(a)).toBe(requestHash(b));
  });

  it('keeps array order and distinguishes values', () => {
    expect(requestHash({ items: [1, 2] })).not.toBe(requestHash({ items: [2, 1] }));
    expect(requestHash({ quantity: 1 })).not.toBe(requestHash({ quantity: '1' }));
  });

  it('is a sha256 hex digest', () => {
    expect(requestHash({})).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash(undefined)).toBe(requestHash(null));
  });
});

describe('decideOnExistingKey', () => {
  const hash = 'h'.repeat(64);

  it.each([
    [{ requestHash: hash, state: 'completed', leaseActive: false }, 'replay'],
    [{ requestHash: hash, state: 'in_flight', leaseActive: true }, 'in-flight'],
    [{ requestHash: hash, state: 'in_flight', leaseActive: false }, 'take-over'],
    [{ requestHash: 'x'.repeat(64), state: 'completed', leaseActive: false }, 'mismatch'],
    [{ requestHash: 'x'.repeat(64), state: 'in_flight', leaseActive: true }, 'mismatch'],
  ] as const)('%o → %s', (existing, decision) => {
    expect(decideOnExistingKey(existing, hash)).toBe(decision);
  });
});
