import { assertCqlIdentifier } from '@dispatch/platform';
import { type Client, types } from 'cassandra-driver';
import type { TimelineEntry } from '../domain/order-response';
import { ORDER_COLUMNS, type OrderRow, type ReadModelWrite } from '../domain/writes';

export interface StoredOrder {
  row: OrderRow;
  /** Oldest first (the table's clustering order). */
  timeline: TimelineEntry[];
}

export interface CustomerOrderEntry {
  orderId: string;
  createdAt: Date;
}

export interface CustomerOrdersPage {
  entries: CustomerOrderEntry[];
  /** Cassandra's paging state for the next page, when there may be one. */
  pagingState?: Buffer;
}

interface Statement {
  query: string;
  params: unknown[];
}

/** The upsert for one write; column names come from code, values are bound. */
export function toStatement(keyspace: string, write: ReadModelWrite): Statement {
  const columns = Object.keys(write.values);
  const values = Object.values(write.values);
  return {
    query:
      `INSERT INTO ${keyspace}.${write.table} (${columns.join(', ')}) ` +
      `VALUES (${columns.map(() => '?').join(', ')}) USING TIMESTAMP ?`,
    params: [...values, types.Long.fromString(write.timestamp.toString())],
  };
}

/**
 * The read model's tables in one generation keyspace (the keyspace is passed per call, because
 * the active generation changes when a rebuild switches over).
 */
export class ReadModelStore {
  constructor(private readonly client: Client) {}

  /**
   * Applies one event's writes. The timeline and listing rows go first, then the `orders` writes,
   * which share a partition, in one unlogged batch (atomic and isolated within the partition). With
   * readOrder reading the row before the timeline, a view that shows an event's effect always lists
   * the event. Every write is an idempotent upsert, so a retry after a partial failure is safe.
   */
  async apply(keyspace: string, writes: ReadModelWrite[]): Promise<void> {
    assertCqlIdentifier(keyspace, 'keyspace name');
    const orderRow: Statement[] = [];
    const others: Statement[] = [];
    for (const write of writes)
      (write.table === 'orders' ? orderRow : others).push(toStatement(keyspace, write));
    await Promise.all(others.map((s) => this.client.execute(s.query, s.params, { prepare: true })));
    if (orderRow.length > 0) await this.client.batch(orderRow, { prepare: true, logged: false });
  }

  /**
   * The order's row and, unless `withTimeline` is false (listings), its timeline: read after the row
   * (apply writes the timeline first), so every event whose effect the row shows is listed.
   */
  async readOrder(keyspace: string, orderId: string, withTimeline = true): Promise<StoredOrder | undefined> {
    assertCqlIdentifier(keyspace, 'keyspace name');
    const orders = await this.client.execute(
      `SELECT ${ORDER_COLUMNS.join(', ')} FROM ${keyspace}.orders WHERE order_id = ?`,
      [orderId],
      { prepare: true },
    );
    const found = orders.first();
    if (!found) return undefined;
    const timeline = withTimeline
      ? await this.client.execute(
          `SELECT occurred_at, event_id, event_type, producer, causation_id FROM ${keyspace}.order_timeline WHERE order_id = ?`,
          [orderId],
          { prepare: true },
        )
      : undefined;
    const row = Object.fromEntries(
      ORDER_COLUMNS.map((column) => [column, found.get(column) ?? null]),
    ) as OrderRow;
    return {
      row,
      timeline: (timeline?.rows ?? []).map((t) => {
        const causationId = t.get('causation_id') as string | null;
        return {
          eventType: t.get('event_type') as string,
          occurredAt: (t.get('occurred_at') as Date).toISOString(),
          eventId: t.get('event_id') as string,
          producer: t.get('producer') as string,
          ...(causationId ? { causationId } : {}),
        };
      }),
    };
  }

  /** One page of a customer's orders, newest first. */
  async listByCustomer(
    keyspace: string,
    customerId: string,
    limit: number,
    pagingState?: Buffer,
  ): Promise<CustomerOrdersPage> {
    assertCqlIdentifier(keyspace, 'keyspace name');
    const result = await this.client.execute(
      `SELECT order_id, created_at FROM ${keyspace}.orders_by_customer WHERE customer_id = ?`,
      [customerId],
      { prepare: true, fetchSize: limit, ...(pagingState ? { pageState: pagingState } : {}) },
    );
    // Hex of Cassandra's paging state; absent (or empty) when the partition is exhausted.
    const next: string | null | undefined = result.pageState;
    return {
      entries: result.rows.map((row) => ({
        orderId: row.get('order_id') as string,
        createdAt: row.get('created_at') as Date,
      })),
      ...(next ? { pagingState: Buffer.from(next, 'hex') } : {}),
    };
  }
}
