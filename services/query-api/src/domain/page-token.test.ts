import { decodePageToken, encodePageToken, PageTokenError } from './page-token';

describe('page tokens', () => {
  const state = Buffer.from('0010000000080000000300000001f07ffffffdf07ffffffd', 'hex');

  it('round-trips the paging state as URL-safe text', () => {
    const token = encodePageToken('customer-1', state);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken('customer-1', token).equals(state)).toBe(true);
  });

  it("refuses another customer's token", () => {
    const token = encodePageToken('customer-1', state);
    expect(() => decodePageToken('customer-2', token)).toThrow(/different listing/);
  });

  it.each([
    ['not base64url', 'abc+/='],
    ['too short', Buffer.from([1, 2, 3]).toString('base64url')],
    ['wrong version', Buffer.concat([Buffer.from([9]), Buffer.alloc(8), state]).toString('base64url')],
    ['too long', 'A'.repeat(5000)],
    ['empty', ''],
  ])('refuses a token that is %s', (_why, token) => {
    expect(() => decodePageToken('customer-1', token)).toThrow(PageTokenError);
  });
});
