import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  eventually,
  requireRunningServices,
  SERVICE_NAMES,
  type ServiceName,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';
import { parse } from 'yaml';
import { renderDashboards } from '../dashboards';
import { panelQueries } from '../grafana';
import { PrometheusApiError } from '../prometheus-api';
import { ALERTS_FILE } from '../prometheus-config';
import { expandGrafanaVariables, metricFamily, metricNamesIn } from '../promql';
import { startTestPrometheus, type TestPrometheus } from './support/prometheus';

/**
 * A real Prometheus (Debian's binary, installed on demand) scrapes the RUNNING stack every second with
 * our scrape jobs and alert rules. The test drives orders down the happy, rejected, payment-failed and
 * cancel paths, then runs every panel query of every dashboard and every alert expression through
 * Prometheus' HTTP API: each must parse, each panel must return data, and every metric a query names
 * must be exposed by some service. Needs the stack with its services (`pnpm stack up`).
 */

/** How long one order may take to reach a step: generous, the stack shares 2 cores with other suites. */
const SAGA_TIMEOUT_MS = 180_000;

/** Values for Grafana's built-in variables: windows that cover the whole test. */
const GRAFANA_VARIABLES = { rateInterval: '5m', interval: '15s', range: '10m' };

interface Answer<T> {
  status: number;
  body: T;
  text: string;
}

async function call<T>(method: string, service: ServiceName, path: string, token: string, body?: unknown) {
  const response = await fetch(`${serviceUrl(service)}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if (/json/.test(response.headers.get('content-type') ?? '') && text !== '') parsed = JSON.parse(text);
  return { status: response.status, body: parsed as T, text } satisfies Answer<T>;
}

function expectStatus(answer: Answer<unknown>, expected: number[], what: string): void {
  if (!expected.includes(answer.status)) {
    throw new Error(
      `${what}: expected HTTP ${expected.join(' or ')}, got ${answer.status}: ${answer.text.slice(0, 400)}`,
    );
  }
}

const suffix = randomUUID().slice(0, 8);
const ITEM_ID = `obs-item-${suffix}`;
const DRIVER_ID = `obs-driver-${suffix}`;

function orderBody(customerId: string, quantity: number, cardToken: string) {
  return {
    customerId,
    currency: 'EUR',
    items: [{ itemId: ITEM_ID, quantity, unitPrice: '10.00' }],
    deliveryAddress: {
      line1: '1 Metrics Street',
      city: 'London',
      postcode: 'EC1A 1BB',
      lat: 51.52,
      lng: -0.1,
    },
    paymentMethod: { type: 'card', token: cardToken },
  };
}

async function placeOrder(customerId: string, quantity: number, cardToken: string): Promise<string> {
  const answer = await call<{ orderId: string }>(
    'POST',
    'order-service',
    '/api/orders',
    await tokenFor(customerId),
    orderBody(customerId, quantity, cardToken),
  );
  expectStatus(answer, [201], `POST /api/orders (${cardToken}, quantity ${quantity})`);
  return answer.body.orderId;
}

async function waitForStatus(orderId: string, admin: string, wanted: string, what: string): Promise<void> {
  await eventually(
    async () => {
      const answer = await call<{ status: string }>('GET', 'query-api', `/api/orders/${orderId}`, admin);
      if (answer.status !== 200 || answer.body.status !== wanted) {
        throw new Error(
          `${what} order ${orderId}: query-api answers ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      }
    },
    { timeoutMs: SAGA_TIMEOUT_MS, intervalMs: 500 },
  );
}

let prometheus: TestPrometheus | undefined;

beforeAll(async () => {
  await requireRunningServices(SERVICE_NAMES);
  prometheus = await startTestPrometheus({ scrapeInterval: '1s' });
}, 300_000);

afterAll(async () => {
  await prometheus?.stop();
});

function api() {
  if (!prometheus) throw new Error('Prometheus did not start (see beforeAll)');
  return prometheus.api;
}

describe('Prometheus against the running stack', () => {
  it('scrapes all five services (and itself) successfully', async () => {
    await eventually(
      async () => {
        const targets = await api().activeTargets();
        const health = Object.fromEntries(
          targets.map((t) => [t.labels.job, `${t.health} ${t.lastError}`.trim()]),
        );
        for (const job of [...SERVICE_NAMES, 'prometheus']) expect(health[job]).toBe('up');
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });

  it('drives orders down the happy, rejected, payment-failed and cancel paths', async () => {
    const admin = await tokenFor(`observability-admin-${suffix}`, 'admin');
    const item = await call('PUT', 'inventory-service', `/api/inventory/items/${ITEM_ID}`, admin, {
      name: `Observability test item ${suffix}`,
      unitPrice: '10.00',
      currency: 'EUR',
      available: 100,
    });
    expectStatus(item, [200, 201], `PUT item ${ITEM_ID}`);
    // A driver of our own, so the happy order does not wait for one that other tests keep busy.
    const driver = await call('PUT', 'delivery-service', `/api/drivers/${DRIVER_ID}`, admin, {
      name: `Obs Driver ${suffix}`,
      status: 'AVAILABLE',
    });
    expectStatus(driver, [200, 201], `PUT driver ${DRIVER_ID}`);

    const happy = await placeOrder(`obs-happy-${suffix}`, 1, 'tok_visa');
    const rejected = await placeOrder(`obs-rejected-${suffix}`, 1000, 'tok_visa');
    const declined = await placeOrder(`obs-declined-${suffix}`, 1, 'tok_declined');
    const cancelCustomer = `obs-cancel-${suffix}`;
    const toCancel = await placeOrder(cancelCustomer, 1, 'tok_visa');
    const cancel = await call(
      'POST',
      'order-service',
      `/api/orders/${toCancel}/cancel`,
      await tokenFor(cancelCustomer),
      { reason: 'observability test' },
    );
    // Accepted, or already past the point of no return: either way it is counted by outcome.
    expectStatus(cancel, [202, 409], `POST /api/orders/${toCancel}/cancel`);

    await eventually(
      async () => {
        const delivery = await call<{ status: string }>(
          'GET',
          'delivery-service',
          `/api/deliveries/${happy}`,
          admin,
        );
        if (delivery.status !== 200 || !['ASSIGNED', 'EN_ROUTE'].includes(delivery.body.status)) {
          throw new Error(`delivery of ${happy}: ${delivery.status} ${delivery.text.slice(0, 200)}`);
        }
      },
      { timeoutMs: SAGA_TIMEOUT_MS, intervalMs: 500 },
    );
    const completed = await call('POST', 'delivery-service', `/api/deliveries/${happy}/complete`, admin);
    expectStatus(completed, [200], `POST /api/deliveries/${happy}/complete`);

    await waitForStatus(happy, admin, 'DELIVERED', 'happy');
    await waitForStatus(rejected, admin, 'INVENTORY_REJECTED', 'rejected');
    await waitForStatus(declined, admin, 'PAYMENT_FAILED', 'declined');
  }, 600_000);

  it('every panel query of every dashboard parses, returns data, and names only exposed metrics', async () => {
    const queries = renderDashboards().flatMap(({ dashboard }) => panelQueries(dashboard));
    expect(queries.length).toBeGreaterThan(80);
    let problems: string[] = [];
    try {
      // Scrapes every second: a few rounds until the orders above show up everywhere.
      await eventually(
        async () => {
          const exposed = await api().exposedMetricNames();
          problems = [];
          for (const q of queries) {
            const where = `${q.dashboard} / ${q.panel} [${q.refId}]`;
            const expr = expandGrafanaVariables(q.expr, GRAFANA_VARIABLES);
            const missing = metricNamesIn(expr).filter(
              (n) => n !== 'up' && !exposed.has(metricFamily(n, exposed)),
            );
            if (missing.length > 0)
              problems.push(
                `${where}: no service exposes ${missing.join(', ')} (docs/metrics.md says where it belongs)`,
              );
            try {
              const result = await api().query(expr);
              if (result.length === 0) problems.push(`${where}: no data for ${expr}`);
            } catch (err) {
              problems.push(`${where}: ${err instanceof PrometheusApiError ? err.message : String(err)}`);
            }
          }
          if (problems.length > 0) throw new Error(problems.join('\n'));
        },
        { timeoutMs: 60_000, intervalMs: 2_000 },
      );
    } catch {
      // Fall through to a readable failure: one line per broken panel.
    }
    expect(problems).toEqual([]);
  }, 180_000);

  it('every alert rule is loaded, evaluates without error, and its expression runs as a query', async () => {
    const expected = (
      parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules.filter((r) => r.alert));
    await eventually(
      async () => {
        const loaded = (await api().ruleGroups()).flatMap((g) => g.rules);
        expect(loaded.map((r) => r.name).sort()).toEqual(expected.map((r) => r.alert).sort());
        // Evaluated at least once (every second) and without an error.
        expect(
          loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`),
        ).toEqual([]);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const problems: string[] = [];
    for (const rule of expected) {
      try {
        await api().query(rule.expr);
      } catch (err) {
        problems.push(`${rule.alert}: ${(err as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('a malformed expression is reported as a parse error (the checks above can fail)', async () => {
    await expect(api().query('sum by (service (up)')).rejects.toMatchObject({ errorType: 'bad_data' });
  });
});
