import path from 'node:path';
import { withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import { z } from 'zod';
import { itemBodySchema, itemIdSchema } from '../http/schemas';
import { type ItemDefinition, insertItemIfMissing, lockItems, putItem } from '../store/catalogue-store';

/** The documented demo catalogue (docs/inventory-service.md lists it). */
export const DEMO_CATALOGUE_PATH = path.join(__dirname, 'demo-catalogue.json');

/** A catalogue file: `{ "items": [ {itemId, name, unitPrice, currency, available}, ... ] }`. */
export const catalogueFileSchema = z.strictObject({
  items: z
    .array(itemBodySchema.extend({ itemId: itemIdSchema }))
    .min(1)
    .max(10_000),
});

/** Problems for itemIds listed twice; checked on the raw JSON so they are reported with every other problem. */
function duplicateItemIds(json: unknown): string[] {
  const items = (json as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  const seen = new Set<string>();
  const problems: string[] = [];
  items.forEach((item: unknown, index) => {
    const itemId = (item as { itemId?: unknown } | null)?.itemId;
    if (typeof itemId !== 'string') return;
    if (seen.has(itemId)) problems.push(`items.${index}.itemId: duplicate itemId '${itemId}'`);
    seen.add(itemId);
  });
  return problems;
}

/** A catalogue file that cannot be used; `problems` names every bad field. */
export class CatalogueFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid catalogue file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CatalogueFileError';
  }
}

/** Parses a catalogue file's text; throws CatalogueFileError listing every problem. Pure. */
export function parseCatalogue(text: string, source: string): ItemDefinition[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CatalogueFileError(source, [`not JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  const result = catalogueFileSchema.safeParse(json);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map(
          (issue) => `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`,
        )),
    ...duplicateItemIds(json),
  ];
  if (problems.length > 0 || !result.success) throw new CatalogueFileError(source, problems);
  return result.data.items;
}

export interface SeedResult {
  created: string[];
  /** With reset: items that existed and were set back to the file's values. */
  reset: string[];
  /** Without reset: items that existed and were left as they are. */
  unchanged: string[];
}

/**
 * Loads `items` in one transaction, idempotently. By default only missing items are inserted and
 * existing ones (with their live stock) are left alone; with `reset`, existing items get the file's
 * name, price, currency and available count back. `reserved` is never touched: those units belong
 * to orders in flight.
 */
export async function seedCatalogue(
  pool: Pool,
  items: readonly ItemDefinition[],
  opts: { reset?: boolean } = {},
): Promise<SeedResult> {
  return withTransaction(pool, async (tx) => {
    const result: SeedResult = { created: [], reset: [], unchanged: [] };
    // A reset rewrites existing items: lock them first, all at once in itemId order like every other
    // locker (the consumers lock a whole batch's items that way), so the writes below, in file order,
    // never wait while holding an item a batch waits for.
    if (opts.reset) {
      await lockItems(
        tx,
        items.map((item) => item.itemId),
      );
    }
    for (const item of items) {
      if (opts.reset) {
        const { created } = await putItem(tx, item);
        (created ? result.created : result.reset).push(item.itemId);
      } else {
        const created = await insertItemIfMissing(tx, item);
        (created ? result.created : result.unchanged).push(item.itemId);
      }
    }
    return result;
  });
}
