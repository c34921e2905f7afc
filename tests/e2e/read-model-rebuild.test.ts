import { spawn } from 'node:child_process';
import path from 'node:path';
import { eventually, REPO_ROOT, requireRunningServices } from '@dispatch/testkit';
import {
  createItem,
  type OrderView,
  placeOrder,
  readOrder,
  uniqueId,
  waitForInventoryDecision,
} from './support/api';

/**
 * `./dispatch rebuild`, as an operator runs it: logged in to Cassandra as the admin role (which creates
 * the new generation's keyspace and grants it to query_api) and to Kafka as the rebuild tool's
 * principal (which may only read the raw topics); replays raw.* into a fresh generation and switches.
 */
function runRebuild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'dispatch'), ['rebuild'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`query-api rebuild failed (exit ${code}):\n${output}`));
    });
  });
}

function eventIds(view: OrderView): string[] {
  return view.timeline.map((entry) => entry.eventId);
}

/**
 * The read model is a pure function of the log: rebuilt from offset 0 into fresh tables, it shows
 * the same view of an order. An order whose saga moved on meanwhile (payment, delivery run live)
 * must show everything it showed before plus the new events; one that did not move must be identical.
 */
describe('query-api read model rebuild', () => {
  beforeAll(() => requireRunningServices(['order-service', 'inventory-service', 'query-api']));

  it('converges to the same order views after `rebuild`', async () => {
    const item = await createItem({ available: 1, unitPrice: '7.25' });
    const reserved = await placeOrder(uniqueId('e2e-rebuild'), [
      { itemId: item.itemId, quantity: 1, unitPrice: '7.25' },
    ]);
    const rejected = await placeOrder(uniqueId('e2e-rebuild'), [
      { itemId: item.itemId, quantity: 5, unitPrice: '7.25' },
    ]);
    const before = {
      reserved: await waitForInventoryDecision(reserved.orderId),
      rejected: await waitForInventoryDecision(rejected.orderId),
    };
    expect(before.reserved.inventory?.status).toBe('RESERVED');
    expect(before.rejected.status).toBe('INVENTORY_REJECTED');

    const output = await runRebuild();
    expect(output).toMatch(/rebuild done: generation \d+/);

    // The rejected order is finished: its rebuilt view is identical, field for field.
    await eventually(async () => expect(await readOrder(rejected.orderId)).toEqual(before.rejected), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    // The reserved one may have moved on (payment, delivery) while we rebuilt.
    const after = await readOrder(reserved.orderId);
    expect(after).toBeDefined();
    expect(eventIds(after!)).toEqual(expect.arrayContaining(eventIds(before.reserved)));
    if (after!.timeline.length === before.reserved.timeline.length) {
      expect(after).toEqual(before.reserved);
    } else {
      const { orderId, customerId, totalAmount, currency, createdAt, items, inventory } = before.reserved;
      expect(after).toMatchObject({
        orderId,
        customerId,
        totalAmount,
        currency,
        createdAt,
        items,
        inventory,
      });
    }
  });
});
