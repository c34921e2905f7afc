import { randomUUID } from 'node:crypto';
import { eventually } from '@dispatch/testkit';
import type { PoolClient } from 'pg';
import { recordInbox } from '../src/inbox';
import { withTransaction } from '../src/pg';
import { createTestDatabase, type TestDatabase } from './helpers/pg';

describe('recordInbox', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('inbox');
    await db.pool.query('CREATE TABLE balances (account text PRIMARY KEY, amount int NOT NULL)');
    await db.pool.query(`INSERT INTO balances VALUES ('a', 0)`);
  });

  afterEach(() => db.drop());

  /** A handler as services write them: dedupe and effect in one transaction. */
  async function credit(tx: PoolClient, eventId: string): Promise<boolean> {
    if (!(await recordInbox(tx, 'payment-service', eventId, 'inventory.reserved'))) return false;
    await tx.query(`UPDATE balances SET amount = amount + 10 WHERE account = 'a'`);
    return true;
  }

  async function backendPid(client: PoolClient): Promise<number> {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]?.pid ?? -1;
  }

  async function balance(): Promise<number> {
    const { rows } = await db.pool.query<{ amount: number }>(
      `SELECT amount FROM balances WHERE account = 'a'`,
    );
    return rows[0]?.amount ?? Number.NaN;
  }

  it('applies an event once when it is delivered twice', async () => {
    const eventId = randomUUID();
    expect(await withTransaction(db.pool, (tx) => credit(tx, eventId))).toBe(true);
    expect(await withTransaction(db.pool, (tx) => credit(tx, eventId))).toBe(false);
    expect(await balance()).toBe(10);
    const { rows } = await db.pool.query('SELECT consumer, event_type FROM inbox WHERE event_id = $1', [
      eventId,
    ]);
    expect(rows).toEqual([{ consumer: 'payment-service', event_type: 'inventory.reserved' }]);
  });

  it('keeps consumers apart: the same event is new to another consumer', async () => {
    const eventId = randomUUID();
    await withTransaction(db.pool, (tx) => recordInbox(tx, 'payment-service', eventId));
    expect(await withTransaction(db.pool, (tx) => recordInbox(tx, 'delivery-service', eventId))).toBe(true);
    expect(await withTransaction(db.pool, (tx) => recordInbox(tx, 'delivery-service', eventId))).toBe(false);
  });

  it('forgets the record when the handler transaction rolls back, so the redelivery takes effect', async () => {
    const eventId = randomUUID();
    await expect(
      withTransaction(db.pool, async (tx) => {
        await credit(tx, eventId);
        throw new Error('handler failed after its effect');
      }),
    ).rejects.toThrow('handler failed');
    expect(await balance()).toBe(0);
    expect(await withTransaction(db.pool, (tx) => credit(tx, eventId))).toBe(true);
    expect(await balance()).toBe(10);
  });

  it('applies an event once when two connections process it at the same time', async () => {
    const eventId = randomUUID();
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      const secondPid = await backendPid(second);
      await first.query('BEGIN');
      await second.query('BEGIN');
      expect(await credit(first, eventId)).toBe(true);
      // The second delivery now blocks on the first one's uncommitted inbox row.
      const secondResult = credit(second, eventId);
      await eventually(async () => {
        const { rows } = await db.pool.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [
          secondPid,
        ]);
        expect(rows[0]?.wait_event_type).toBe('Lock');
      });
      await first.query('COMMIT');
      expect(await secondResult).toBe(false);
      await second.query('COMMIT');
      expect(await balance()).toBe(10);
    } finally {
      first.release();
      second.release();
    }
  });

  it('lets the waiting delivery take over when the first one rolls back', async () => {
    const eventId = randomUUID();
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      const secondPid = await backendPid(second);
      await first.query('BEGIN');
      await second.query('BEGIN');
      expect(await credit(first, eventId)).toBe(true);
      const secondResult = credit(second, eventId);
      await eventually(async () => {
        const { rows } = await db.pool.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [
          secondPid,
        ]);
        expect(rows[0]?.wait_event_type).toBe('Lock');
      });
      await first.query('ROLLBACK');
      expect(await secondResult).toBe(true);
      await second.query('COMMIT');
      expect(await balance()).toBe(10);
    } finally {
      first.release();
      second.release();
    }
  });

  it('many concurrent redeliveries of one event take effect exactly once', async () => {
    const eventId = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => withTransaction(db.pool, (tx) => credit(tx, eventId))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await balance()).toBe(10);
  });
});
