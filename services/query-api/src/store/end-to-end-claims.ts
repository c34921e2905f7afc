import type { OrderStatus } from '@dispatch/contracts';
import { assertCqlIdentifier } from '@dispatch/platform';
import type { Client } from 'cassandra-driver';

export interface Claim {
  orderId: string;
  /** The terminal status the order has when it is claimed; kept for operators. */
  status: OrderStatus;
}

/** Order ids one read asks for (`IN ?`); more are read in further requests. */
const READ_CHUNK = 100;
/** Claims one unlogged batch writes: each is its own partition, and Cassandra warns above 10. */
const WRITE_CHUNK = 10;

/**
 * Who observes an order's end-to-end latency: the first caller to claim the order
 * (`<control keyspace>.end_to_end_observations`, src/migrations/control/002_end_to_end_observations.cql).
 * Plain reads and writes, no lightweight transaction; see `claimAll` for what that guarantees.
 */
export class EndToEndClaims {
  /** Orders a claimAll call of this instance is working on right now. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly controlKeyspace: string,
  ) {
    assertCqlIdentifier(controlKeyspace, 'keyspace name');
  }

  /**
   * Claims the orders that have no claim row yet and returns their ids: one read of the claim rows
   * (`IN`), then one write of the missing ones, both LOCAL_QUORUM, for the whole list. Resolves only
   * once the rows are written, so the caller observes after the claim is durable: a crash or a retry
   * afterwards finds the rows and does not observe again (at worst an observation is lost).
   *
   * Within this instance, an order that another call is claiming at this moment is left out (that
   * call decides it), so concurrent batches on one instance never both claim an order. Across
   * instances there is no lock: two instances that claim the same order at the same moment (both
   * read before either wrote, a window of one round trip) both get it. See docs/query-api.md for
   * when that can happen.
   */
  async claimAll(claims: readonly Claim[]): Promise<Set<string>> {
    const mine = new Map<string, Claim>();
    for (const claim of claims) {
      if (!this.inFlight.has(claim.orderId) && !mine.has(claim.orderId)) mine.set(claim.orderId, claim);
    }
    if (mine.size === 0) return new Set();
    for (const orderId of mine.keys()) this.inFlight.add(orderId);
    try {
      const existing = await this.existing([...mine.keys()]);
      const fresh = [...mine.values()].filter((c) => !existing.has(c.orderId));
      await this.write(fresh);
      return new Set(fresh.map((c) => c.orderId));
    } finally {
      for (const orderId of mine.keys()) this.inFlight.delete(orderId);
    }
  }

  private async existing(orderIds: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const reads = [];
    for (let i = 0; i < orderIds.length; i += READ_CHUNK) {
      reads.push(
        this.client.execute(
          `SELECT order_id FROM ${this.controlKeyspace}.end_to_end_observations WHERE order_id IN ?`,
          [orderIds.slice(i, i + READ_CHUNK)],
          { prepare: true },
        ),
      );
    }
    for (const result of await Promise.all(reads)) {
      for (const row of result.rows) found.add(row.get('order_id') as string);
    }
    return found;
  }

  private async write(claims: Claim[]): Promise<void> {
    const query = `INSERT INTO ${this.controlKeyspace}.end_to_end_observations (order_id, status, observed_at) VALUES (?, ?, ?)`;
    const now = new Date();
    const writes = [];
    for (let i = 0; i < claims.length; i += WRITE_CHUNK) {
      const statements = claims
        .slice(i, i + WRITE_CHUNK)
        .map((c) => ({ query, params: [c.orderId, c.status, now] }));
      const [only] = statements;
      writes.push(
        statements.length === 1 && only
          ? this.client.execute(only.query, only.params, { prepare: true })
          : this.client.batch(statements, { prepare: true, logged: false }),
      );
    }
    await Promise.all(writes);
  }
}
