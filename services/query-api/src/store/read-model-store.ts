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

export interface Statement {
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

/** Statements one request carries; more go into further batches (Cassandra warns above 5 KiB). */
export const MAX_BATCH_STATEMENTS = 32;

/**
 * The requests that apply a set of events' writes, in two rounds: `first` the timeline and listing
 * rows, then `orders`, the `orders` cells. Each request is one statement or an unlogged batch whose
 * statements share one partition (table and partition key), so it is applied atomically and
 * isolated; requests of one round are independent of each other. An event's `orders` writes are
 * never split across two requests. Pure.
 */
export function planApply(
  keyspace: string,
  writesPerEvent: readonly (readonly ReadModelWrite[])[],
): { first: Statement[][]; orders: Statement[][] } {
  const first = new Map<string, Statement[]>();
  const orders = new Map<string, Statement[][]>();
  for (const writes of writesPerEvent) {
    const ownOrderCells = new Map<string, Statement[]>();
    for (const write of writes) {
      const statement = toStatement(keyspace, write);
      const partition = `${write.table}\u0000${partitionKeyOf(write)}`;
      if (write.table === 'orders') {
        const own = ownOrderCells.get(partition) ?? [];
        own.push(statement);
        ownOrderCells.set(partition, own);
      } else {
        const group = first.get(partition) ?? [];
        group.push(statement);
        first.set(partition, group);
      }
    }
    for (const [partition, statements] of ownOrderCells) {
      const events = orders.get(partition) ?? [];
      events.push(statements);
      orders.set(partition, events);
    }
  }
  return {
    first: [...first.values()].flatMap((statements) => chunk(statements, MAX_BATCH_STATEMENTS)),
    orders: [...orders.values()].flatMap((events) => packWhole(events, MAX_BATCH_STATEMENTS)),
  };
}

function partitionKeyOf(write: ReadModelWrite): string {
  return write.table === 'orders_by_customer' ? write.values.customer_id : write.values.order_id;
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Packs groups into requests of at most `size` statements without splitting a group (a larger group goes alone). */
function packWhole<T>(groups: T[][], size: number): T[][] {
  const packed: T[][] = [];
  let current: T[] = [];
  for (const group of groups) {
    if (current.length > 0 && current.length + group.length > size) {
      packed.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) packed.push(current);
  return packed;
}

/**
 * The read model's tables in one generation keyspace (the keyspace is passed per call, because
 * the active generation changes when a rebuild switches over).
 */
export class ReadModelStore {
  constructor(private readonly client: Client) {}

  /** Applies one event's writes (see applyEvents). */
  async apply(keyspace: string, writes: readonly ReadModelWrite[]): Promise<void> {
    await this.applyEvents(keyspace, [writes]);
  }

  /**
   * Applies several events' writes (the live consumer passes one order's events of a batch) in two
   * ordered rounds of single-partition requests (planApply): first the timeline and listing rows,
   * then the `orders` cells. With readOrder reading the row before the timeline, a view that shows
   * an event's effect always lists the event (the rows live in other tables or partitions than the
   * `orders` cells, so one batch could not promise that). Every write is an idempotent upsert, so a
   * retry after a partial failure is safe.
   */
  async applyEvents(keyspace: string, writesPerEvent: readonly (readonly ReadModelWrite[])[]): Promise<void> {
    assertCqlIdentifier(keyspace, 'keyspace name');
    const plan = planApply(keyspace, writesPerEvent);
    await Promise.all(plan.first.map((request) => this.send(request)));
    await Promise.all(plan.orders.map((request) => this.send(request)));
  }

  private async send(request: Statement[]): Promise<void> {
    const [only] = request;
    if (request.length === 1 && only) await this.client.execute(only.query, only.params, { prepare: true });
    else await this.client.batch(request, { prepare: true, logged: false });
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
