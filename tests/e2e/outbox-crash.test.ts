import { createPool } from '@dispatch/platform';
import {
  killService,
  requireRunningServices,
  restartService,
  stackAddresses,
  tokenFor,
} from '@dispatch/testkit';
import {
  createItem,
  expectStatus,
  orderBody,
  postOrder,
  RESERVED_OR_BEYOND,
  uniqueId,
  waitForInventoryDecision,
} from './support/api';

const ORDERS = 20;

/** How many of these orders' outbox rows order-service had not published yet (evidence only). */
async function unsentOutboxRows(orderIds: string[]): Promise<number> {
  const pool = createPool({ ...stackAddresses().pg, database: process.env.ORDER_DB ?? 'order_db', max: 1 });
  try {
    const result = await pool.query<{ unsent: string }>(
      'SELECT count(*) AS unsent FROM outbox WHERE sent_at IS NULL AND message_key = ANY($1)',
      [orderIds],
    );
    return Number(result.rows[0]?.unsent ?? 0);
  } finally {
    await pool.end();
  }
}

/**
 * The transactional outbox: a 201 means the order and its order.created are committed together,
 * so even a kill -9 right after the answer (before the relay may have published) loses nothing;
 * the restarted service's relay publishes what is left.
 */
describe('order-service killed with SIGKILL right after answering 201', () => {
  beforeAll(() => requireRunningServices(['order-service', 'inventory-service', 'query-api']));

  it('still gets every accepted order to inventory once restarted', async () => {
    const item = await createItem({ available: ORDERS, unitPrice: '1.50' });
    const customers = Array.from({ length: ORDERS }, () => uniqueId('e2e-crash'));
    const tokens = await Promise.all(customers.map((customerId) => tokenFor(customerId)));

    let orderIds: string[];
    try {
      // A burst, then the kill as soon as the last 201 is in: some order.created rows are
      // very likely still unpublished in the outbox at that moment.
      const answers = await Promise.all(
        customers.map((customerId, i) =>
          postOrder(
            customerId,
            orderBody(customerId, [{ itemId: item.itemId, quantity: 1, unitPrice: '1.50' }]),
            {
              token: tokens[i]!,
            },
          ),
        ),
      );
      await killService('order-service', 'SIGKILL');
      for (const answer of answers) expectStatus(answer, 201, 'POST /api/orders');
      orderIds = answers.map((answer) => answer.body.orderId);
      const unsent = await unsentOutboxRows(orderIds);
      console.info(
        `order-service killed with ${unsent} of ${ORDERS} order.created rows still unsent in its outbox`,
      );
    } finally {
      // Whatever happened, leave the stack as we found it.
      await restartService('order-service');
    }

    const views = await Promise.all(orderIds.map((orderId) => waitForInventoryDecision(orderId, 120_000)));
    for (const view of views) {
      expect(view.inventory?.status).toBe('RESERVED');
      expect(RESERVED_OR_BEYOND).toContain(view.status);
    }
    // Each order.created was published once: one creation per order in the read model's timeline.
    for (const view of views) {
      expect(view.timeline.filter((entry) => entry.eventType === 'order.created')).toHaveLength(1);
    }
  });
});
