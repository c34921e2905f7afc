import {
  generateSecret,
  parseSignatureHeader,
  secretsInForce,
  signatureHeader,
  verifySignature,
} from './signature';

// Computed independently: printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
const KNOWN = '38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789';

describe('signatureHeader', () => {
  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">', () => {
    expect(signatureHeader(['whsec_test'], 1_700_000_000, '{"a":1}')).toBe(`t=1700000000,v1=${KNOWN}`);
  });

  it('carries one v1 per secret in force, the current one first', () => {
    const header = signatureHeader(['whsec_new', 'whsec_test'], 1_700_000_000, '{"a":1}');
    const parsed = parseSignatureHeader(header)!;
    expect(parsed.v1).toHaveLength(2);
    expect(parsed.v1[1]).toBe(KNOWN);
    expect(parsed.v1[0]).not.toBe(KNOWN);
  });

  it('refuses no secret or a bad timestamp', () => {
    expect(() => signatureHeader([], 1, 'x')).toThrow();
    expect(() => signatureHeader(['s'], 1.5, 'x')).toThrow();
  });
});

describe('verifySignature', () => {
  const body = '{"id":"e1","type":"order.created"}';
  const t = 1_700_000_000;
  const header = signatureHeader(['whsec_old', 'whsec_new'], t, body);

  it('accepts either secret of a rotation within the tolerance', () => {
    expect(verifySignature({ header, rawBody: body, secret: 'whsec_new', nowSeconds: t + 299 })).toEqual({
      ok: true,
      timestamp: t,
    });
    expect(verifySignature({ header, rawBody: body, secret: 'whsec_old', nowSeconds: t - 10 }).ok).toBe(true);
  });

  it('refuses another secret, a changed body, a stale timestamp and garbage', () => {
    expect(verifySignature({ header, rawBody: body, secret: 'whsec_x', nowSeconds: t })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature({ header, rawBody: `${body} `, secret: 'whsec_new', nowSeconds: t }).ok).toBe(
      false,
    );
    expect(verifySignature({ header, rawBody: body, secret: 'whsec_new', nowSeconds: t + 301 })).toEqual({
      ok: false,
      reason: 'stale',
    });
    for (const bad of [
      '',
      't=1',
      'v1=ab',
      `t=x,v1=${KNOWN}`,
      `t=1,t=2,v1=${KNOWN}`,
      `t=1,v1=${KNOWN.toUpperCase()}`,
    ]) {
      expect(verifySignature({ header: bad, rawBody: body, secret: 'whsec_new', nowSeconds: 1 })).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('ignores schemes it does not know', () => {
    expect(parseSignatureHeader(`t=5,v0=zz,v1=${KNOWN}`)).toEqual({ timestamp: 5, v1: [KNOWN] });
  });
});

describe('secretsInForce', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('adds the previous secret only while its overlap lasts', () => {
    const later = new Date(now.getTime() + 1);
    expect(secretsInForce({ secret: 'a', previousSecret: 'b', previousSecretExpiresAt: later }, now)).toEqual(
      ['a', 'b'],
    );
    expect(secretsInForce({ secret: 'a', previousSecret: 'b', previousSecretExpiresAt: now }, now)).toEqual([
      'a',
    ]);
    expect(secretsInForce({ secret: 'a', previousSecret: null, previousSecretExpiresAt: null }, now)).toEqual(
      ['a'],
    );
  });
});

describe('generateSecret', () => {
  it('is 32 random bytes behind a prefix', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(a);
  });
});
