import type { OrderStatus } from '@dispatch/contracts';
import { assertCqlIdentifier } from '@dispatch/platform';
import { type Client, types } from 'cassandra-driver';

/**
 * Who observes an order's end-to-end latency: the first caller to claim the order
 * (`<control keyspace>.end_to_end_observations`, src/migrations/control/002_end_to_end_observations.cql).
 */
export class EndToEndClaims {
  constructor(
    private readonly client: Client,
    private readonly controlKeyspace: string,
  ) {
    assertCqlIdentifier(controlKeyspace, 'keyspace name');
  }

  /**
   * True for exactly one caller per order: `INSERT … IF NOT EXISTS` is a lightweight transaction
   * (Paxos, serial consistency), so of any number of concurrent or repeated claims, on any
   * instance, one is applied. `status` and the time are kept for operators.
   */
  async claim(orderId: string, status: OrderStatus): Promise<boolean> {
    const result = await this.client.execute(
      `INSERT INTO ${this.controlKeyspace}.end_to_end_observations (order_id, status, observed_at)
       VALUES (?, ?, ?) IF NOT EXISTS`,
      [orderId, status, new Date()],
      { prepare: true, serialConsistency: types.consistencies.localSerial },
    );
    return result.wasApplied();
  }
}
