import { z } from 'zod';

/**
 * Money on the wire is a decimal string with exactly two fraction digits ("12.50"), always paired
 * with an ISO 4217 currency code in a sibling `currency` field.
 *
 * Why a string and not a number or integer minor units:
 * - no binary floating point anywhere between services (0.1 + 0.2 problems cannot reach the bus);
 * - the value reads the same as the seed's BigDecimal amounts (Jackson reads "12.50" into a
 *   BigDecimal), so the seed's own consumers can still read our topics, whereas minor units would be
 *   silently misread as a hundred times the price;
 * - one canonical spelling per amount, so amounts compare with `===`.
 *
 * Arithmetic is done in integer minor units (`toMinorUnits` / `fromMinorUnits`), never on the strings.
 * Only currencies with two minor-unit digits are accepted; a currency with 0 or 3 (JPY, KWD) would need
 * a new schema version.
 */
export const MONEY_PATTERN = /^(0|[1-9]\d{0,11})\.\d{2}$/;

export const moneySchema = z
  .string()
  .regex(MONEY_PATTERN, 'Invalid amount: expected a non-negative decimal string with 2 fraction digits');

export type Money = z.output<typeof moneySchema>;

/** ISO 4217 codes we accept: all have two minor-unit digits. */
export const CURRENCIES = [
  'AUD',
  'BGN',
  'BRL',
  'CAD',
  'CHF',
  'CNY',
  'CZK',
  'DKK',
  'EUR',
  'GBP',
  'HKD',
  'INR',
  'MXN',
  'NOK',
  'NZD',
  'PLN',
  'RON',
  'SEK',
  'SGD',
  'USD',
  'ZAR',
] as const;

export const currencySchema = z.enum(CURRENCIES);

export type Currency = z.output<typeof currencySchema>;

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

/** "12.50" → 1250. Throws MoneyError for anything that is not a valid Money string. */
export function toMinorUnits(amount: string): number {
  if (!MONEY_PATTERN.test(amount)) throw new MoneyError(`not a money amount: '${amount}'`);
  const [whole = '0', fraction = '00'] = amount.split('.');
  return Number(whole) * 100 + Number(fraction);
}

/** 1250 → "12.50". Throws MoneyError for negative, fractional or unsafe integers. */
export function fromMinorUnits(minorUnits: number): Money {
  if (!Number.isSafeInteger(minorUnits) || minorUnits < 0) {
    throw new MoneyError(`not a non-negative whole number of minor units: ${minorUnits}`);
  }
  const whole = Math.floor(minorUnits / 100);
  const fraction = String(minorUnits % 100).padStart(2, '0');
  const amount = `${whole}.${fraction}`;
  if (!MONEY_PATTERN.test(amount)) throw new MoneyError(`amount out of range: ${amount}`);
  return amount;
}

/** unitPrice × quantity, e.g. lineTotal("2.50", 3) → "7.50". */
export function lineTotal(unitPrice: Money, quantity: number): Money {
  return fromMinorUnits(toMinorUnits(unitPrice) * quantity);
}

/** Sum of amounts; "0.00" for none. */
export function sumMoney(amounts: readonly Money[]): Money {
  return fromMinorUnits(amounts.reduce((total, amount) => total + toMinorUnits(amount), 0));
}

/** The total of priced lines: Σ unitPrice × quantity. */
export function totalOfLines(lines: readonly { unitPrice: Money; quantity: number }[]): Money {
  return sumMoney(lines.map((line) => lineTotal(line.unitPrice, line.quantity)));
}

/**
 * A JSON number sent as money → the canonical Money string, exactly, or MoneyError.
 *
 * JSON.parse has already turned the client's digits into a binary double; what we can read back is
 * that double's shortest round-trip decimal spelling (`String(n)`, which ECMAScript defines as the
 * fewest digits that parse back to the same double). Every decimal of at most 15 significant digits
 * survives that round trip unchanged, and the largest amount (999999999999.99) has 14, so for every
 * in-range amount this is the value the client wrote: `25` and `25.0` → "25.00", `12.5` → "12.50",
 * `12.345` and `1e-7` (more than 2 decimals) are refused rather than rounded. (A text with 16 or more
 * significant digits, such as 25.0000000000000001, is rounded by the JSON parser itself before any
 * code sees it; it reaches us as 25.)
 */
export function moneyFromNumber(value: number): Money {
  if (!Number.isFinite(value)) throw new MoneyError(`not a finite number: ${value}`);
  if (value < 0) throw new MoneyError(`negative amount: ${value}`);
  const spelled = String(value);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(spelled);
  // Exponent spellings are only used for < 1e-6 (too many decimals) and >= 1e21 (out of range).
  if (!match) {
    throw new MoneyError(value >= 1 ? `amount out of range: ${spelled}` : `more than 2 decimals: ${spelled}`);
  }
  const [, whole = '0', fraction = ''] = match;
  if (fraction.length > 2) throw new MoneyError(`more than 2 decimals: ${spelled}`);
  const amount = `${whole}.${fraction.padEnd(2, '0')}`;
  if (!MONEY_PATTERN.test(amount)) throw new MoneyError(`amount out of range: ${spelled}`);
  return amount;
}

/**
 * Money as a client may send it to an HTTP API: the canonical decimal string ("25.00", exactly two
 * fraction digits, as everywhere on the bus) or a JSON number with at most two decimals (25.00, 25,
 * 12.5), which is how the seed system's clients send it. The output is always the canonical string,
 * so nothing downstream (events, storage, hashes of amounts) ever sees a number. Only for request
 * bodies: events and responses keep `moneySchema`.
 */
export const moneyInputSchema = z
  .union([z.string(), z.number()])
  .transform((value, ctx): Money => {
    if (typeof value === 'string') {
      if (MONEY_PATTERN.test(value)) return value;
      ctx.addIssue({
        code: 'custom',
        message: 'Invalid amount: expected a non-negative decimal string with 2 fraction digits ("25.00")',
      });
      return z.NEVER;
    }
    try {
      return moneyFromNumber(value);
    } catch (err) {
      if (!(err instanceof MoneyError)) throw err;
      ctx.addIssue({
        code: 'custom',
        message: `Invalid amount: ${err.message}; a number must be non-negative, at most 999999999999.99, with at most 2 decimals`,
      });
      return z.NEVER;
    }
  })
  .meta({
    description:
      'Money: a decimal string with exactly 2 fraction digits ("25.00") or a JSON number with at most 2 decimals (25.00, 25, 12.5); stored and published as the string.',
    examples: ['25.00', 25],
  });
