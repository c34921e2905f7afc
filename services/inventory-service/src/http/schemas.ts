import {
  itemIdSchema as contractItemIdSchema,
  currencySchema,
  moneySchema,
  plainText,
} from '@dispatch/contracts';
import { z } from 'zod';

/** The largest `available` the integer column holds. */
export const MAX_UNITS = 2_147_483_647;

/**
 * Catalogue ids follow the contracts' item id rule (1-64 of A-Z a-z 0-9 . _ : -), the same rule
 * order-service applies to order lines, so every item in the catalogue can be ordered.
 */
export const itemIdSchema = contractItemIdSchema.describe(
  'The catalogue id (SKU), e.g. "sku-espresso-beans-1kg".',
);

export const itemParamsSchema = z.object({ itemId: itemIdSchema });

/** PUT body: everything an admin sets. `reserved` is not settable (it belongs to orders in flight). */
export const itemBodySchema = z.strictObject({
  name: plainText().trim().min(1).max(200),
  unitPrice: moneySchema.describe('Decimal string with two fraction digits, e.g. "12.50".'),
  currency: currencySchema,
  available: z
    .int()
    .min(0)
    .max(MAX_UNITS)
    .describe('Sellable units. Units already reserved for orders are not included and stay reserved.'),
});

export const itemSchema = z.object({
  itemId: z.string(),
  name: z.string(),
  unitPrice: moneySchema,
  currency: currencySchema,
  available: z.int().min(0).describe('Sellable units.'),
  reserved: z.int().min(0).describe('Units held for orders in flight (not sellable).'),
});

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: plainText().min(1).max(1000).optional().describe('nextCursor of the previous page.'),
});

export const itemPageSchema = z.object({
  items: z.array(itemSchema),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
});
