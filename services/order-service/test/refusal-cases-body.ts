import type { BadCase, OrderBody, RefusalContext } from './refusal-cases';

/** Order bodies that differ from a valid one in one place. */
export function orderBodyBuilders(valid: () => OrderBody) {
  const withItems = (items: unknown) => () => ({ ...valid(), items });
  const line = (patch: Record<string, unknown>) => ({
    itemId: 'sku-1',
    quantity: 1,
    unitPrice: '1.00',
    ...patch,
  });
  const withLine = (patch: Record<string, unknown>) => withItems([line(patch)]);
  const withAddress = (patch: Record<string, unknown>) => () => ({
    ...valid(),
    deliveryAddress: { ...valid().deliveryAddress, ...patch },
  });
  const without = (field: string) => () => {
    const body: Record<string, unknown> = { ...valid() };
    delete body[field];
    return body;
  };
  return { withItems, line, withLine, withAddress, without };
}

/** 400: the order body is not a valid order (refusal-cases.ts has the other cases). */
export function bodyCases({ owner, valid }: RefusalContext): BadCase[] {
  const { withItems, line, withLine, withAddress, without } = orderBodyBuilders(valid);
  return [
    // 400: not an order at all
    {
      name: 'malformed JSON',
      headers: { 'content-type': 'application/json' },
      rawBody: () => '{"customerId": ',
      status: 400,
      code: 'validation-failed',
      errors: ['(body)'],
    },
    {
      name: 'JSON null',
      headers: { 'content-type': 'application/json' },
      rawBody: () => 'null',
      status: 400,
      code: 'validation-failed',
      errors: ['(body)'],
    },
    {
      name: 'a JSON array',
      body: () => [valid()],
      status: 400,
      code: 'validation-failed',
      errors: ['(root)'],
    },
    {
      name: 'an empty object',
      body: () => ({}),
      status: 400,
      code: 'validation-failed',
      errors: ['currency', 'customerId', 'deliveryAddress', 'items', 'paymentMethod'],
    },
    // 400: customerId
    {
      name: 'missing customerId',
      body: without('customerId'),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    {
      name: 'numeric customerId',
      body: () => ({ ...valid(), customerId: 42 }),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    {
      name: 'empty customerId',
      body: () => ({ ...valid(), customerId: '' }),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    {
      name: '129-character customerId',
      body: () => ({ ...valid(), customerId: 'c'.repeat(129) }),
      status: 400,
      code: 'validation-failed',
      errors: ['customerId'],
    },
    // 400: currency
    {
      name: 'missing currency',
      body: without('currency'),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    {
      name: 'unknown currency',
      body: () => ({ ...valid(), currency: 'XYZ' }),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    {
      name: 'lower-case currency',
      body: () => ({ ...valid(), currency: 'eur' }),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    {
      name: 'a currency without 2 minor digits (JPY)',
      body: () => ({ ...valid(), currency: 'JPY' }),
      status: 400,
      code: 'validation-failed',
      errors: ['currency'],
    },
    // 400: lines
    {
      name: 'missing items',
      body: without('items'),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    { name: 'no lines', body: withItems([]), status: 400, code: 'validation-failed', errors: ['items'] },
    {
      name: '51 lines',
      body: withItems(Array.from({ length: 51 }, (_, i) => line({ itemId: `sku-${i}` }))),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    {
      name: 'items as an object',
      body: withItems({ 0: line({}) }),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    {
      name: 'quantity 0',
      body: withLine({ quantity: 0 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'quantity 1001',
      body: withLine({ quantity: 1001 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'fractional quantity',
      body: withLine({ quantity: 1.5 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'quantity as a string',
      body: withLine({ quantity: '2' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.quantity'],
    },
    {
      name: 'empty itemId',
      body: withLine({ itemId: '' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: '65-character itemId',
      body: withLine({ itemId: 's'.repeat(65) }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: 'itemId with markup',
      body: withLine({ itemId: '<script>' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: 'itemId with a space',
      body: withLine({ itemId: 'sku 1' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      name: 'numeric itemId',
      body: withLine({ itemId: 7 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.itemId'],
    },
    {
      // unitPrice may be left out, but a present one must be money.
      name: 'unitPrice null',
      body: withLine({ unitPrice: null }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      // A JSON number is accepted (the seed's shape), but only with at most two decimals.
      name: 'unitPrice as a number with three decimals',
      body: withLine({ unitPrice: 12.345 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'unitPrice as a negative number',
      body: withLine({ unitPrice: -12.5 }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'unitPrice with one decimal',
      body: withLine({ unitPrice: '12.5' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'negative unitPrice',
      body: withLine({ unitPrice: '-1.00' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items.0.unitPrice'],
    },
    {
      name: 'the same itemId on two lines',
      body: withItems([line({}), line({ quantity: 3 })]),
      status: 400,
      code: 'validation-failed',
      errors: ['items.1.itemId'],
    },
    {
      name: 'a total beyond the money range',
      body: withLine({ quantity: 1000, unitPrice: '999999999999.99' }),
      status: 400,
      code: 'validation-failed',
      errors: ['items'],
    },
    // 400: delivery address and payment method
    {
      name: 'missing deliveryAddress',
      body: without('deliveryAddress'),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress'],
    },
    {
      name: 'latitude 91',
      body: withAddress({ lat: 91 }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.lat'],
    },
    {
      name: 'longitude -181',
      body: withAddress({ lng: -181 }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.lng'],
    },
    {
      name: 'empty address line',
      body: withAddress({ line1: '' }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.line1'],
    },
    {
      name: 'missing postcode',
      body: withAddress({ postcode: undefined }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.postcode'],
    },
    {
      name: 'lower-case country code',
      body: withAddress({ country: 'gb' }),
      status: 400,
      code: 'validation-failed',
      errors: ['deliveryAddress.country'],
    },
    {
      name: 'missing paymentMethod',
      body: without('paymentMethod'),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod'],
    },
    {
      name: 'cash payment',
      body: () => ({ ...valid(), paymentMethod: { type: 'cash' } }),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod.type'],
    },
    {
      name: 'a card number instead of a token',
      body: () => ({ ...valid(), paymentMethod: { type: 'card', token: '4242424242424242' } }),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod.token'],
    },
    {
      name: 'a too-short card token',
      body: () => ({ ...valid(), paymentMethod: { type: 'card', token: 'tok' } }),
      status: 400,
      code: 'validation-failed',
      errors: ['paymentMethod.token'],
    },
    {
      name: 'many bad fields at once',
      body: () => ({
        customerId: owner,
        currency: 'XYZ',
        items: [{ itemId: '', quantity: 0, unitPrice: 'free' }],
        deliveryAddress: { ...valid().deliveryAddress, lat: 'north' },
        paymentMethod: { type: 'card', token: 'tok' },
      }),
      status: 400,
      code: 'validation-failed',
      errors: [
        'currency',
        'deliveryAddress.lat',
        'items.0.itemId',
        'items.0.quantity',
        'items.0.unitPrice',
        'paymentMethod.token',
      ],
    },
  ];
}
