import { createOrderHeadersSchema, createOrderRequestSchema } from './schemas';

const valid = () => ({
  customerId: 'customer-1',
  currency: 'EUR',
  items: [
    { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
    { itemId: 'sku-milk-frother', quantity: 1, unitPrice: '39.99' },
  ],
  deliveryAddress: {
    line1: '1 Dispatch Street',
    city: 'London',
    postcode: 'EC1A 1BB',
    lat: 51.52,
    lng: -0.09,
  },
  paymentMethod: { type: 'card', token: 'tok_visa_4242' },
});

/** The dotted paths of every issue, as the 400 response lists them. */
function badPaths(input: unknown): string[] {
  const result = createOrderRequestSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => issue.path.map(String).join('.'));
}

describe('createOrderRequestSchema', () => {
  it('accepts the seed-shaped body and ignores unknown fields', () => {
    const parsed = createOrderRequestSchema.parse({ ...valid(), totalAmount: '64.99', note: 'ring twice' });
    expect(parsed.items).toHaveLength(2);
    expect(parsed).not.toHaveProperty('note');
  });

  it('accepts lines without unitPrice (inventory prices them from its catalogue)', () => {
    const parsed = createOrderRequestSchema.parse({
      ...valid(),
      items: [
        { itemId: 'sku-espresso-beans-1kg', quantity: 2, unitPrice: '12.50' },
        { itemId: 'sku-milk-frother', quantity: 1 },
      ],
    });
    expect(parsed.items[1]).toEqual({ itemId: 'sku-milk-frother', quantity: 1 });
    expect(badPaths({ ...valid(), items: [{ itemId: 'a', quantity: 1 }] })).toEqual([]);
  });

  it("accepts the seed's request with money as JSON numbers, converted exactly to the canonical string", () => {
    // As the seed's clients send it: the raw JSON text, parsed the way express.json parses it.
    const body = JSON.parse(
      '{"customerId":"customer-1","currency":"EUR","items":[' +
        '{"itemId":"sku-a","quantity":1,"unitPrice":25.00},{"itemId":"sku-b","quantity":2,"unitPrice":12.5},' +
        '{"itemId":"sku-c","quantity":3,"unitPrice":0.1},{"itemId":"sku-d","quantity":1,"unitPrice":99999999.99},' +
        '{"itemId":"sku-e","quantity":1,"unitPrice":7},{"itemId":"sku-f","quantity":1,"unitPrice":"3.30"}],' +
        '"deliveryAddress":{"line1":"1 Main St","city":"London","postcode":"EC1A 1BB","lat":51.52,"lng":-0.1},' +
        '"paymentMethod":{"type":"card","token":"tok_visa"}}',
    );
    const parsed = createOrderRequestSchema.parse(body);
    expect(parsed.items.map((line) => line.unitPrice)).toEqual([
      '25.00',
      '12.50',
      '0.10',
      '99999999.99',
      '7.00',
      '3.30',
    ]);
  });

  it('converts every two-decimal number exactly (no binary rounding leaks into the string)', () => {
    for (let cents = 0; cents < 20_000; cents += 7) {
      const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
      const line = { itemId: 'a', quantity: 1, unitPrice: JSON.parse(text) };
      expect(createOrderRequestSchema.parse({ ...valid(), items: [line] }).items[0]?.unitPrice).toBe(text);
    }
  });

  it('checks the range of the total over the priced lines only', () => {
    const huge = { itemId: 'a', quantity: 1000, unitPrice: '999999999999.99' };
    expect(badPaths({ ...valid(), items: [{ itemId: 'a', quantity: 1000 }] })).toEqual([]);
    expect(badPaths({ ...valid(), items: [huge, { itemId: 'b', quantity: 1 }] })).toEqual(['items']);
  });

  it('accepts the limits themselves: 1 and 50 lines, quantity 1 and 1000, 64-character itemIds', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => ({
      itemId: `sku-${i}`,
      quantity: 1000,
      unitPrice: '1.00',
    }));
    expect(badPaths({ ...valid(), items: fifty })).toEqual([]);
    expect(
      badPaths({ ...valid(), items: [{ itemId: 'a'.repeat(64), quantity: 1, unitPrice: '0.00' }] }),
    ).toEqual([]);
  });

  it.each([
    ['no lines', { items: [] }, ['items']],
    [
      '51 lines',
      { items: Array.from({ length: 51 }, (_, i) => ({ itemId: `s${i}`, quantity: 1, unitPrice: '1.00' })) },
      ['items'],
    ],
    ['quantity 0', { items: [{ itemId: 'a', quantity: 0, unitPrice: '1.00' }] }, ['items.0.quantity']],
    ['quantity 1001', { items: [{ itemId: 'a', quantity: 1001, unitPrice: '1.00' }] }, ['items.0.quantity']],
    [
      'fractional quantity',
      { items: [{ itemId: 'a', quantity: 1.5, unitPrice: '1.00' }] },
      ['items.0.quantity'],
    ],
    [
      '65-character itemId',
      { items: [{ itemId: 'a'.repeat(65), quantity: 1, unitPrice: '1.00' }] },
      ['items.0.itemId'],
    ],
    [
      'itemId with a space',
      { items: [{ itemId: 'a b', quantity: 1, unitPrice: '1.00' }] },
      ['items.0.itemId'],
    ],
    [
      'itemId with a slash',
      { items: [{ itemId: '../etc', quantity: 1, unitPrice: '1.00' }] },
      ['items.0.itemId'],
    ],
    ['unitPrice null', { items: [{ itemId: 'a', quantity: 1, unitPrice: null }] }, ['items.0.unitPrice']],
    [
      'unitPrice as a number with 3 decimals',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: 1.005 }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice as a negative number',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: -1 }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice as a number too small for cents',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: 1e-7 }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice as a number beyond the money range',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: 1e12 }] },
      ['items.0.unitPrice'],
    ],
    // JSON.parse turns 1e400 into Infinity; a client can send it.
    [
      'unitPrice Infinity',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: JSON.parse('1e400') }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice NaN',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: Number.NaN }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice as a boolean',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: true }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice as a string without decimals',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: '25' }] },
      ['items.0.unitPrice'],
    ],
    [
      'unitPrice with 3 decimals',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: '1.005' }] },
      ['items.0.unitPrice'],
    ],
    [
      'negative unitPrice',
      { items: [{ itemId: 'a', quantity: 1, unitPrice: '-1.00' }] },
      ['items.0.unitPrice'],
    ],
    [
      'duplicate itemId',
      {
        items: [
          { itemId: 'a', quantity: 1, unitPrice: '1.00' },
          { itemId: 'a', quantity: 2, unitPrice: '1.00' },
        ],
      },
      ['items.1.itemId'],
    ],
    [
      'a total beyond the money range',
      { items: [{ itemId: 'a', quantity: 1000, unitPrice: '999999999999.99' }] },
      ['items'],
    ],
    ['unknown currency', { currency: 'XYZ' }, ['currency']],
    ['lower-case currency', { currency: 'eur' }, ['currency']],
    ['empty customerId', { customerId: '' }, ['customerId']],
    [
      'latitude beyond 90',
      { deliveryAddress: { ...valid().deliveryAddress, lat: 91 } },
      ['deliveryAddress.lat'],
    ],
    [
      'card number as token',
      { paymentMethod: { type: 'card', token: '4242424242424242' } },
      ['paymentMethod.token'],
    ],
    ['unknown payment type', { paymentMethod: { type: 'cash' } }, ['paymentMethod.type']],
  ])('rejects %s', (_name, patch, paths) => {
    expect(badPaths({ ...valid(), ...patch })).toEqual(paths);
  });

  it('names every bad field at once', () => {
    const paths = badPaths({
      customerId: 7,
      currency: 'XYZ',
      items: [{ itemId: '', quantity: -1, unitPrice: 'free' }],
      deliveryAddress: { line1: '', city: 'London', postcode: 'E1', lat: 0, lng: 200 },
    });
    expect(paths).toEqual(
      expect.arrayContaining([
        'customerId',
        'currency',
        'items.0.itemId',
        'items.0.quantity',
        'items.0.unitPrice',
        'deliveryAddress.line1',
        'deliveryAddress.lng',
        'paymentMethod',
      ]),
    );
  });

  it('rejects a body that is not an object', () => {
    expect(createOrderRequestSchema.safeParse(undefined).success).toBe(false);
    expect(createOrderRequestSchema.safeParse([valid()]).success).toBe(false);
  });
});

describe('createOrderHeadersSchema', () => {
  const key = (value: string | undefined) =>
    createOrderHeadersSchema.safeParse({ 'idempotency-key': value }).success;

  it('accepts no key, and 1-255 printable ASCII characters', () => {
    expect(key(undefined)).toBe(true);
    expect(key('a')).toBe(true);
    expect(key(`order 2024-05-01 #1 ~!@{}`)).toBe(true);
    expect(key('k'.repeat(255))).toBe(true);
  });

  it('rejects an empty key, 256 characters, control characters and non-ASCII', () => {
    expect(key('')).toBe(false);
    expect(key('k'.repeat(256))).toBe(false);
    expect(key('a\tb')).toBe(false);
    expect(key('café')).toBe(false);
  });
});
