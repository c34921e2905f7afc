import { TRACEPARENT_HEADER, topicForEventType } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import pg from 'pg';
import { enqueue, OUTBOX_CHANNEL } from '../src/outbox';
import { clientConfig, withTransaction } from '../src/pg';
import { TRACEPARENT, unsentCount } from './helpers/outbox';
import { createTestDatabase, type TestDatabase } from './helpers/pg';

describe('enqueue', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase('outbox_enqueue');
  });

  afterEach(() => db.drop());

  it('writes one row per event, ids in array order, topic by type, key = orderId, headers kept', async () => {
    const events = sampleEvents('happy');
    const ids = await withTransaction(db.pool, (tx) => enqueue(tx, events, { traceparent: TRACEPARENT }));
    expect(ids).toHaveLength(events.length);
    expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(ids);

    const { rows } = await db.pool.query(
      'SELECT id, topic, message_key, event_id, event_type, payload, headers, sent_at FROM outbox ORDER BY id',
    );
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
    for (const [i, event] of events.entries()) {
      expect(rows[i]).toMatchObject({
        id: ids[i],
        topic: topicForEventType(event.eventType),
        message_key: event.orderId,
        event_type: event.eventType,
        payload: JSON.parse(JSON.stringify(event)),
        headers: { [TRACEPARENT_HEADER]: TRACEPARENT },
        sent_at: null,
      });
    }
  });

  it('writes nothing when the transaction rolls back', async () => {
    await expect(
      withTransaction(db.pool, async (tx) => {
        await enqueue(tx, sampleEvents('paymentFailed'));
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect(await unsentCount(db)).toBe(0);
  });

  it('refuses to enqueue the same event twice', async () => {
    const [event] = sampleEvents('inventoryRejected');
    if (!event) throw new Error('no sample event');
    await withTransaction(db.pool, (tx) => enqueue(tx, [event]));
    const error = await withTransaction(db.pool, (tx) => enqueue(tx, [event])).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: '23505' });
  });

  it('notifies the outbox channel on commit, not before', async () => {
    const listener = new pg.Client(clientConfig(db.config));
    await listener.connect();
    const notifications: string[] = [];
    listener.on('notification', (msg) => notifications.push(msg.channel));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
    const tx = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      await enqueue(tx, sampleEvents('inventoryRejected'));
      // Round-trip on the listener: a notification sent now would have arrived with this reply.
      await listener.query('SELECT 1');
      expect(notifications).toEqual([]);
      await tx.query('COMMIT');
      await eventually(() => expect(notifications).toEqual([OUTBOX_CHANNEL]));
    } finally {
      tx.release();
      await listener.end();
    }
  });
});
