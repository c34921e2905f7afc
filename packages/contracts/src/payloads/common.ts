import { z } from 'zod';
import { type Money, moneySchema, totalOfLines } from '../money';
import { plainText } from '../text';

/** ISO-8601 date-time with `Z` or a `±hh:mm` offset; a local time without offset is ambiguous and rejected. */
export const isoDateTimeSchema = z.iso.datetime({ offset: true });

/** Identifiers chosen by services (order ids, customer ids, payment ids…); item ids have `itemIdSchema`. */
export const idSchema = plainText().min(1).max(128);

/**
 * A machine-readable reason code in snake case, e.g. `NO_DRIVER_AVAILABLE` (our own saga codes are upper
 * case) or `card_declined` (a payment gateway's decline codes keep the gateway's lower case, as Stripe
 * reports them). An open set (gateways and dispatchers add codes), so a new code never needs a new schema
 * version; consumers treat unknown codes as a generic failure.
 */
export const reasonCodeSchema = z
  .string()
  .regex(
    /^(?:[A-Z][A-Z0-9_]{1,63}|[a-z][a-z0-9_]{1,63})$/,
    'Invalid reason code: expected UPPER_SNAKE_CASE or lower_snake_case, 2–64 characters',
  );

export const quantitySchema = z.int().min(1).max(10_000);

/**
 * Catalogue item ids (SKUs): letters, digits and `. _ : -`, 1–64 characters, so they are safe in logs,
 * URLs and Kafka headers. The one rule for both sides: order-service accepts only these in an order
 * line and inventory-service only these in its catalogue, so every catalogue item can be ordered.
 */
export const itemIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'Invalid itemId: expected 1-64 letters, digits, ".", "_", ":" or "-"');

/**
 * One line as the customer asked for it (order.created): `unitPrice` is optional. When present it is the
 * price the customer was shown, which inventory checks against its catalogue; when absent inventory
 * prices the line from the catalogue. Either way the catalogue's price is the one charged.
 */
export const requestedLineSchema = z.object({
  itemId: itemIdSchema,
  quantity: quantitySchema,
  unitPrice: moneySchema.optional(),
});

export type RequestedLine = z.output<typeof requestedLineSchema>;

/** One priced line: the seed's `{itemId, quantity, unitPrice}` (inventory.* lines carry catalogue prices). */
export const pricedLineSchema = z.object({
  itemId: itemIdSchema,
  quantity: quantitySchema,
  unitPrice: moneySchema,
});

export type PricedLine = z.output<typeof pricedLineSchema>;

/** The requested lines that carry a unitPrice. */
export function pricedLinesOf<L extends { unitPrice?: Money | undefined; quantity: number }>(
  lines: readonly L[],
): (L & { unitPrice: Money })[] {
  return lines.filter((line): line is L & { unitPrice: Money } => line.unitPrice !== undefined);
}

/**
 * order.created's provisional `totalAmount`: Σ unitPrice × quantity over the lines that carry a
 * unitPrice ("0.00" when none does). Throws MoneyError when the sum is out of range.
 */
export function requestedTotal(lines: readonly { unitPrice?: Money | undefined; quantity: number }[]): Money {
  return totalOfLines(pricedLinesOf(lines));
}

type Issue = { message: string; path: (string | number)[] };

/** Issues for lines that name the same itemId twice (one line per item keeps reservations simple). */
export function duplicateItemIssues(lines: readonly { itemId: string }[], field: string): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  lines.forEach((line, index) => {
    if (seen.has(line.itemId)) {
      issues.push({ message: `duplicate itemId '${line.itemId}'`, path: [field, index, 'itemId'] });
    }
    seen.add(line.itemId);
  });
  return issues;
}

/** An issue when `amount` is not Σ unitPrice × quantity of `lines` (or the sum overflows). */
export function amountMismatchIssue(
  amount: string,
  lines: readonly { unitPrice: string; quantity: number }[],
  amountField: string,
  linesField: string,
): Issue | undefined {
  let expected: string;
  try {
    expected = totalOfLines(lines);
  } catch {
    return { message: `the total of ${linesField} is out of range`, path: [amountField] };
  }
  if (expected === amount) return undefined;
  return { message: `must equal the total of ${linesField} (${expected})`, path: [amountField] };
}
