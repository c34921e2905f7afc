/**
 * One order through the played pods only: the catalogue item and a driver through the played
 * inventory-service and delivery-service, the order through the played order-service, its status read
 * from the played query-api, and the delivery completed through the played delivery-service's driver
 * API, as in a cluster (the k8s config has the simulated fleet off). The address is far from the depot,
 * so the local stack's own simulated fleet (which drives every active delivery of the shared database)
 * is still on its way when the driver API completes it.
 */
import { performance } from 'node:perf_hooks';
import { isTerminal, type OrderStatus } from '@dispatch/contracts';
import { expectStatus, FAR_FROM_DEPOT_ADDRESS, http, orderBody, tokenFor } from '@dispatch/testkit';
import { KubePlayError, log } from './podman';

export const KUBE_PLAY_ITEM = 'kube-play-item';
export const KUBE_PLAY_DRIVER = 'kube-play-driver';
const CUSTOMER = 'kube-play-customer';

export interface PlayedUrls {
  orderService: string;
  queryApi: string;
  inventoryService: string;
  deliveryService: string;
}

export interface OrderOutcome {
  orderId: string;
  /** Seconds from the 201 to each status first seen on query-api. */
  seen: { status: string; afterSeconds: number }[];
  completedBy: 'driver API' | 'already completed';
}

async function readStatus(urls: PlayedUrls, orderId: string, token: string): Promise<string | undefined> {
  const answer = await http<{ status: OrderStatus }>('GET', `${urls.queryApi}/api/orders/${orderId}`, {
    token,
  });
  if (answer.status === 404) return undefined;
  expectStatus(answer, 200, `GET query-api /api/orders/${orderId}`);
  return answer.body.status;
}

/** Polls query-api until the order is in `want` (or fails on a terminal status that is not). */
async function waitForStatus(
  urls: PlayedUrls,
  orderId: string,
  token: string,
  want: string[],
  deadline: number,
  record: (status: string) => void,
): Promise<string> {
  let last: string | undefined;
  for (;;) {
    last = await readStatus(urls, orderId, token);
    if (last !== undefined) record(last);
    if (last !== undefined && want.includes(last)) return last;
    if (last !== undefined && isTerminal(last as OrderStatus)) {
      throw new KubePlayError(`order ${orderId} ended ${last}, not ${want.join(' or ')}`);
    }
    if (Date.now() > deadline) {
      throw new KubePlayError(
        `order ${orderId} is ${last ?? 'unknown to query-api (404)'}, not ${want.join(' or ')}, at the deadline`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function placeOrderThroughPods(urls: PlayedUrls, timeoutMs: number): Promise<OrderOutcome> {
  const admin = await tokenFor('kube-play-admin', 'admin');
  const customer = await tokenFor(CUSTOMER);

  const item = await http('PUT', `${urls.inventoryService}/api/inventory/items/${KUBE_PLAY_ITEM}`, {
    token: admin,
    body: { name: 'kube-play item', unitPrice: '12.50', currency: 'EUR', available: 1000 },
  });
  if (item.status !== 200 && item.status !== 201)
    expectStatus(item, 200, `PUT inventory item ${KUBE_PLAY_ITEM}`);
  const driver = await http('PUT', `${urls.deliveryService}/api/drivers/${KUBE_PLAY_DRIVER}`, {
    token: admin,
    body: { name: 'Kube Play Driver', status: 'AVAILABLE' },
  });
  if (driver.status !== 200 && driver.status !== 201)
    expectStatus(driver, 200, `PUT driver ${KUBE_PLAY_DRIVER}`);
  log(
    `  item ${KUBE_PLAY_ITEM} (inventory-service ${item.status}) and driver ${KUBE_PLAY_DRIVER} (delivery-service ${driver.status}) set`,
  );

  const created = await http<{ orderId: string; status: string }>('POST', `${urls.orderService}/api/orders`, {
    token: customer,
    headers: { 'idempotency-key': `kube-play-${Date.now()}` },
    body: orderBody(
      CUSTOMER,
      [{ itemId: KUBE_PLAY_ITEM, quantity: 1, unitPrice: '12.50' }],
      'EUR',
      FAR_FROM_DEPOT_ADDRESS,
    ),
  });
  expectStatus(created, 201, 'POST order-service /api/orders');
  const orderId = created.body.orderId;
  const accepted = performance.now();
  log(`  order ${orderId} accepted by order-service (201 ${created.body.status})`);

  const seen: OrderOutcome['seen'] = [];
  const record = (status: string) => {
    if (seen.at(-1)?.status !== status) {
      seen.push({ status, afterSeconds: Math.round((performance.now() - accepted) / 100) / 10 });
      log(`  query-api: ${status} after ${seen.at(-1)!.afterSeconds} s`);
    }
  };
  const deadline = Date.now() + timeoutMs;
  await waitForStatus(urls, orderId, customer, ['DELIVERY_ASSIGNED', 'DELIVERED'], deadline, record);

  let completedBy: OrderOutcome['completedBy'] = 'driver API';
  if (seen.at(-1)?.status !== 'DELIVERED') {
    const complete = await http('POST', `${urls.deliveryService}/api/deliveries/${orderId}/complete`, {
      token: admin,
    });
    // 409: the delivery is not active any more; only fine if it was completed (checked below).
    if (complete.status === 409) completedBy = 'already completed';
    else expectStatus(complete, 200, `POST delivery-service /api/deliveries/${orderId}/complete`);
    log(`  delivery-service: POST /api/deliveries/${orderId}/complete answered ${complete.status}`);
  }
  await waitForStatus(urls, orderId, customer, ['DELIVERED'], deadline, record);
  return { orderId, seen, completedBy };
}

/** The driver off duty again, so the stack's other users' orders do not wait for it. Best effort. */
export async function retireDriver(urls: PlayedUrls): Promise<void> {
  try {
    const admin = await tokenFor('kube-play-admin', 'admin');
    await http('PUT', `${urls.deliveryService}/api/drivers/${KUBE_PLAY_DRIVER}`, {
      token: admin,
      body: { name: 'Kube Play Driver', status: 'OFF_DUTY' },
    });
  } catch {
    // The pods may be gone already; the driver then stays as it was.
  }
}
