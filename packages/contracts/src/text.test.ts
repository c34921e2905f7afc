import { idSchema } from './payloads/common';
import { deliveryAddressSchema, orderCancelledV1 } from './payloads/order';
import { freeText, plainText, unsafeCharacterIn } from './text';

describe('unsafeCharacterIn', () => {
  it.each([
    ['plain ASCII', 'Baker Street 221b'],
    ['accents and CJK', 'Café crème, 東京都'],
    ['an emoji (a surrogate pair)', 'pizza 🍕 party'],
    ['a pair at the very end', 'x🍕'],
    ['an empty string', ''],
    ['U+00A0 (no-break space, just past C1)', 'a\u00a0b'],
    ['U+2028 (line separator: not a control character)', 'a\u2028b'],
  ])('accepts %s', (_name, value) => {
    expect(unsafeCharacterIn(value)).toBeUndefined();
    expect(unsafeCharacterIn(value, 'multi-line')).toBeUndefined();
  });

  it.each([
    ['NUL', 'a\u0000b', 'the control character U+0000 at index 1'],
    ['ESC', '\u001b[31mred', 'the control character U+001B at index 0'],
    ['the last C0 control', 'a\u001f', 'the control character U+001F at index 1'],
    ['DEL', 'a\u007f', 'the control character U+007F at index 1'],
    ['a C1 control', 'a\u0085', 'the control character U+0085 at index 1'],
    ['the last C1 control', '\u009f', 'the control character U+009F at index 0'],
    ['carriage return', 'a\rb', 'the control character U+000D at index 1'],
    ['a lone high surrogate', 'a\ud800b', 'a lone surrogate (U+D800) at index 1'],
    ['a high surrogate at the end', 'ab\udbff', 'a lone surrogate (U+DBFF) at index 2'],
    ['a lone low surrogate', '\udc00', 'a lone surrogate (U+DC00) at index 0'],
    ['two high surrogates', '\ud83d\ud83d', 'a lone surrogate (U+D83D) at index 0'],
    ['a reversed pair', '\udf55\ud83c', 'a lone surrogate (U+DF55) at index 0'],
  ])('refuses %s in any text', (_name, value, why) => {
    expect(unsafeCharacterIn(value)).toBe(why);
    expect(unsafeCharacterIn(value, 'multi-line')).toBe(why);
  });

  it('allows tab and line feed only in multi-line text', () => {
    expect(unsafeCharacterIn('a\tb')).toBe('the control character U+0009 at index 1');
    expect(unsafeCharacterIn('a\nb')).toBe('the control character U+000A at index 1');
    expect(unsafeCharacterIn('a\tb\nc', 'multi-line')).toBeUndefined();
  });
});

describe('plainText and freeText', () => {
  it('chain like z.string() and name the bad character', () => {
    const name = plainText().trim().min(1).max(5);
    expect(name.parse(' ab ')).toBe('ab');
    const failed = name.safeParse('a\u0000');
    expect(failed.success).toBe(false);
    expect(failed.error?.issues.map((i) => i.message)).toEqual([
      'Must not contain the control character U+0000 at index 1',
    ]);
    expect(name.safeParse('toolong').success).toBe(false);
    expect(freeText().safeParse('line one\nline two').success).toBe(true);
    expect(freeText().safeParse('bell\u0007').success).toBe(false);
  });

  it('guard the shared field schemas', () => {
    expect(idSchema.safeParse('customer-1').success).toBe(true);
    expect(idSchema.safeParse('customer\u0000').success).toBe(false);
    const address = { line1: '1 Main St', city: 'London', postcode: 'EC1A 1BB', lat: 51.5, lng: -0.1 };
    expect(deliveryAddressSchema.safeParse(address).success).toBe(true);
    for (const field of ['line1', 'line2', 'city', 'postcode']) {
      expect(deliveryAddressSchema.safeParse({ ...address, [field]: 'x\ud800' }).success).toBe(false);
    }
    const cancel = { orderId: 'o-1', cancelledBy: 'CUSTOMER' };
    expect(orderCancelledV1.safeParse({ ...cancel, reason: 'changed\nmy mind' }).success).toBe(true);
    expect(orderCancelledV1.safeParse({ ...cancel, reason: 'changed\u0000' }).success).toBe(false);
  });
});
