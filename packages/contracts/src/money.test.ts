import {
  currencySchema,
  fromMinorUnits,
  lineTotal,
  MoneyError,
  moneyFromNumber,
  moneyInputSchema,
  moneySchema,
  sumMoney,
  toMinorUnits,
  totalOfLines,
} from './money';

describe('money', () => {
  it.each(['0.00', '0.05', '12.50', '999999999999.99'])('accepts %s', (amount) => {
    expect(moneySchema.safeParse(amount).success).toBe(true);
  });

  it.each(['1.5', '1', '-1.00', '01.00', '1.000', '1e3', ' 1.00', '1000000000000.00', ''])(
    'rejects %j',
    (amount) => {
      expect(moneySchema.safeParse(amount).success).toBe(false);
    },
  );

  it('converts to and from minor units', () => {
    expect(toMinorUnits('12.50')).toBe(1250);
    expect(toMinorUnits('0.07')).toBe(7);
    expect(fromMinorUnits(1250)).toBe('12.50');
    expect(fromMinorUnits(7)).toBe('0.07');
    expect(fromMinorUnits(0)).toBe('0.00');
  });

  it('refuses what is not money', () => {
    expect(() => toMinorUnits('12.5')).toThrow(MoneyError);
    expect(() => fromMinorUnits(-1)).toThrow(MoneyError);
    expect(() => fromMinorUnits(1.5)).toThrow(MoneyError);
    expect(() => fromMinorUnits(Number.MAX_SAFE_INTEGER + 1)).toThrow(MoneyError);
    expect(() => fromMinorUnits(100_000_000_000_000)).toThrow(/out of range/);
  });

  it('adds without floating point error', () => {
    expect(sumMoney(['0.10', '0.20'])).toBe('0.30');
    expect(sumMoney([])).toBe('0.00');
    expect(lineTotal('19.99', 3)).toBe('59.97');
    expect(
      totalOfLines([
        { unitPrice: '12.50', quantity: 2 },
        { unitPrice: '39.99', quantity: 1 },
      ]),
    ).toBe('64.99');
  });

  it('accepts only known ISO 4217 codes', () => {
    expect(currencySchema.safeParse('EUR').success).toBe(true);
    expect(currencySchema.safeParse('eur').success).toBe(false);
    expect(currencySchema.safeParse('XXX').success).toBe(false);
    expect(currencySchema.safeParse('JPY').success).toBe(false);
  });
});

describe('moneyFromNumber', () => {
  it.each([
    [25, '25.00'],
    [25.0, '25.00'],
    [12.5, '12.50'],
    [0.1, '0.10'],
    [0.29, '0.29'],
    [1.1, '1.10'],
    [0, '0.00'],
    [-0, '0.00'],
    [999999999999.99, '999999999999.99'],
  ])('%p → %p', (value, money) => {
    expect(moneyFromNumber(value)).toBe(money);
  });

  it.each([
    [12.345, /more than 2 decimals/],
    [1.005, /more than 2 decimals/],
    [1e-7, /more than 2 decimals/],
    [-0.01, /negative/],
    [1e12, /out of range/],
    [1e21, /out of range/],
    [Number.POSITIVE_INFINITY, /finite/],
    [Number.NaN, /finite/],
  ])('refuses %p', (value, message) => {
    expect(() => moneyFromNumber(value)).toThrow(message);
  });
});

describe('moneyInputSchema', () => {
  it('keeps canonical strings and turns numbers into them', () => {
    expect(moneyInputSchema.parse('12.50')).toBe('12.50');
    expect(moneyInputSchema.parse(12.5)).toBe('12.50');
  });

  it('refuses strings that are not canonical and values that are neither', () => {
    for (const bad of ['12.5', '25', '-1.00', '1.005', '', null, true, {}]) {
      expect(moneyInputSchema.safeParse(bad).success).toBe(false);
    }
  });
});
