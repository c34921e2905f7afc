import type { Currency, Money, PricedLine } from '@dispatch/contracts';
import type { ClientBase, Pool } from 'pg';
import type { CatalogueItem } from '../domain/types';

/** Any query target: the pool for single statements, a transaction's client for the rest. */
type Db = Pool | ClientBase;

interface ItemRow {
  item_id: string;
  name: string;
  unit_price: string;
  currency: string;
  available: number;
  reserved: number;
}

// numeric(14,2)::text always has two fraction digits, which is exactly the contracts' Money spelling.
const ITEM_COLUMNS = 'item_id, name, unit_price::text AS unit_price, currency, available, reserved';

function toItem(row: ItemRow): CatalogueItem {
  return {
    itemId: row.item_id,
    name: row.name,
    unitPrice: row.unit_price,
    // The column only ever receives validated codes (the API and the seed parse them).
    currency: row.currency as Currency,
    available: row.available,
    reserved: row.reserved,
  };
}

/** What an admin (or the seed) sets; `reserved` is never set from outside. */
export interface ItemDefinition {
  itemId: string;
  name: string;
  unitPrice: Money;
  currency: Currency;
  available: number;
}

/**
 * Creates the item or replaces its name, price, currency and sellable count. `reserved` is left as it
 * is: units held for orders in flight stay held whatever the new `available` says.
 */
export async function putItem(
  db: Db,
  item: ItemDefinition,
): Promise<{ item: CatalogueItem; created: boolean }> {
  const result = await db.query<ItemRow & { created: boolean }>(
    `INSERT INTO items (item_id, name, unit_price, currency, available)
     VALUES ($1, $2, $3::numeric, $4, $5)
     ON CONFLICT (item_id) DO UPDATE
       SET name = EXCLUDED.name, unit_price = EXCLUDED.unit_price, currency = EXCLUDED.currency,
           available = EXCLUDED.available, updated_at = now()
     RETURNING ${ITEM_COLUMNS}, (xmax = 0) AS created`,
    // xmax = 0 holds only for a freshly inserted row version, so it tells a create from a replace.
    [item.itemId, item.name, item.unitPrice, item.currency, item.available],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`upsert of item ${item.itemId} returned no row`);
  return { item: toItem(row), created: row.created };
}

/** Inserts the item unless it exists; true when it was inserted. */
export async function insertItemIfMissing(db: Db, item: ItemDefinition): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO items (item_id, name, unit_price, currency, available)
     VALUES ($1, $2, $3::numeric, $4, $5)
     ON CONFLICT (item_id) DO NOTHING`,
    [item.itemId, item.name, item.unitPrice, item.currency, item.available],
  );
  return result.rowCount === 1;
}

export async function getItem(db: Db, itemId: string): Promise<CatalogueItem | undefined> {
  const result = await db.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE item_id = $1`, [itemId]);
  const row = result.rows[0];
  return row ? toItem(row) : undefined;
}

/** Up to `limit` items after `afterItemId` (exclusive), in itemId order. */
export async function listItems(
  db: Db,
  page: { afterItemId?: string | undefined; limit: number },
): Promise<CatalogueItem[]> {
  const result = await db.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM items
      WHERE $1::text IS NULL OR item_id > $1::text
      ORDER BY item_id
      LIMIT $2`,
    [page.afterItemId ?? null, page.limit],
  );
  return result.rows.map(toItem);
}

/**
 * Locks the named items for the rest of the transaction and returns them (unknown ids are absent).
 *
 * Every transaction that changes stock locks its items through here first, always in itemId order
 * (the ORDER BY is applied before the rows are locked), so two transactions can never each hold an
 * item the other waits for: no deadlocks. A transaction waiting for a lock reads the row as the
 * holder committed it, so decisions are made on current counts.
 * FOR NO KEY UPDATE is the lock an UPDATE of non-key columns takes; it still lets reservation_lines'
 * foreign key checks through.
 */
export async function lockItems(
  tx: ClientBase,
  itemIds: readonly string[],
): Promise<Map<string, CatalogueItem>> {
  if (itemIds.length === 0) return new Map();
  const result = await tx.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM items WHERE item_id = ANY($1::text[]) ORDER BY item_id FOR NO KEY UPDATE`,
    [[...new Set(itemIds)]],
  );
  return new Map(result.rows.map((row) => [row.item_id, toItem(row)]));
}

/** Stock did not move as the decision said it would; the transaction must roll back. */
export class StockInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StockInvariantError';
  }
}

type StockMove = 'reserve' | 'release' | 'sell';

// available/reserved change per move; the WHERE makes each update conditional on enough units, so a
// short item updates no row instead of going negative (and the CHECKs would refuse it anyway).
const MOVES: Record<StockMove, { set: string; guard: string }> = {
  reserve: {
    set: 'available = i.available - l.qty, reserved = i.reserved + l.qty',
    guard: 'i.available >= l.qty',
  },
  release: {
    set: 'available = i.available + l.qty, reserved = i.reserved - l.qty',
    guard: 'i.reserved >= l.qty',
  },
  sell: { set: 'reserved = i.reserved - l.qty', guard: 'i.reserved >= l.qty' },
};

/**
 * Moves the lines' units between available and reserved (or out of reserved, for a sale), all lines
 * or none: if any line's condition fails, nothing is left half-done because the caller's transaction
 * rolls back on the StockInvariantError. The caller holds the lines' item locks already (lockItems;
 * the batch handler's lockBatch takes them for every step), so this UPDATE waits for no one and
 * cannot deadlock.
 */
export async function moveStock(
  tx: ClientBase,
  move: StockMove,
  lines: readonly PricedLine[],
): Promise<void> {
  if (lines.length === 0) return;
  const { set, guard } = MOVES[move];
  const result = await tx.query(
    `UPDATE items AS i SET ${set}, updated_at = now()
       FROM unnest($1::text[], $2::int[]) AS l(item_id, qty)
      WHERE i.item_id = l.item_id AND ${guard}`,
    [lines.map((l) => l.itemId), lines.map((l) => l.quantity)],
  );
  if (result.rowCount !== lines.length) {
    throw new StockInvariantError(
      `${move}: expected to update ${lines.length} item(s), updated ${result.rowCount ?? 0}; rolling back`,
    );
  }
}

/** Σ available and Σ reserved over the catalogue (for the stock gauges; no per-item labels). */
export async function stockTotals(db: Db): Promise<{ available: number; reserved: number }> {
  const result = await db.query<{ available: string; reserved: string }>(
    'SELECT COALESCE(sum(available), 0)::text AS available, COALESCE(sum(reserved), 0)::text AS reserved FROM items',
  );
  const row = result.rows[0];
  return { available: Number(row?.available ?? 0), reserved: Number(row?.reserved ?? 0) };
}
