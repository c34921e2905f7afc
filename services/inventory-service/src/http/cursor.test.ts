import { decodeCursor, encodeCursor, InvalidCursorError } from './cursor';

describe('page cursors', () => {
  it('round-trips any itemId, including non-ASCII ones', () => {
    for (const itemId of ['sku-1', 'a/b?c=d&e', 'café-crème', 'x'.repeat(128)]) {
      const cursor = encodeCursor(itemId);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/); // safe in a query string as is
      expect(decodeCursor(cursor)).toBe(itemId);
    }
  });

  it.each([
    ['not base64 JSON', 'hello'],
    ['empty', ''],
    ['JSON but not a cursor', Buffer.from('{"after":1}').toString('base64url')],
    ['another version', Buffer.from('{"v":2,"after":"a"}').toString('base64url')],
    ['an empty itemId', Buffer.from('{"v":1,"after":""}').toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
    ['a NUL in the itemId', Buffer.from('{"v":1,"after":"a\\u0000"}').toString('base64url')],
    ['a lone surrogate in the itemId', Buffer.from('{"v":1,"after":"\\ud800"}').toString('base64url')],
  ])('refuses %s', (_name, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(InvalidCursorError);
  });
});
