import { parseConfig } from '@dispatch/platform';
import { generateSigningKey, signToken } from '@dispatch/platform/token-issuer';
import {
  type CatalogueItem,
  createTestIssuer,
  dropTestDatabase,
  http,
  type InProcessService,
  startInProcess,
  testServiceEnv,
  uniqueName,
} from '@dispatch/testkit';
import type { Pool } from 'pg';
import { inventoryConfigSchema } from '../src/config';
import { inventoryService } from '../src/service';
import { orderCreated, pipeline } from './helpers';

// The integration project's testTimeout is not applied per project by jest, so the slower tests set their own.
jest.setTimeout(120_000);

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** GET /api/inventory/items/{itemId}, as the shared API client types it. */
type ItemView = CatalogueItem;

/**
 * The service started in-process the way main.ts starts it (own fresh database, a token issuer of its own whose public JWKS file the service gets),
 * without Kafka consumers: a test instance must not join the real consumer group.
 */
describe('inventory admin API (in-process service, real PostgreSQL and Kafka)', () => {
  const issuer = createTestIssuer();
  const database = uniqueName('it_inventory_api');
  const config = parseConfig(
    'inventory-service',
    inventoryConfigSchema,
    testServiceEnv(issuer, { PGDATABASE: database }),
  );

  let service: InProcessService;
  let base: string;
  let adminToken: string;
  let customerToken: string;

  beforeAll(async () => {
    service = await startInProcess(inventoryService(config), { consumers: { enabled: false } });
    base = service.base;
    adminToken = await issuer.sign('admin-1', 'admin');
    customerToken = await issuer.sign('customer-1', 'customer');
  });

  afterAll(async () => {
    await service?.stop();
    await dropTestDatabase(database);
    issuer.cleanup();
  });

  const call = (method: string, path: string, opts: Parameters<typeof http>[2] = {}) =>
    http(method, `${base}${path}`, opts);

  const put = (itemId: string, body: unknown, token = adminToken) =>
    call('PUT', `/api/inventory/items/${encodeURIComponent(itemId)}`, { token, body });

  const validItem = { name: 'Espresso beans, 1 kg', unitPrice: '12.50', currency: 'EUR', available: 10 };

  describe('authentication and roles', () => {
    it.each([
      ['PUT', '/api/inventory/items/sku-a'],
      ['GET', '/api/inventory/items/sku-a'],
      ['GET', '/api/inventory/items'],
    ])('%s %s needs a bearer token (401) with the admin role (403)', async (method, path) => {
      const body = method === 'PUT' ? validItem : undefined;
      const anonymous = await call(method, path, { body });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);

      const forged = await signToken(generateSigningKey(), issuer.claims, {
        subject: 'admin-1',
        roles: ['admin'],
      });
      expect((await call(method, path, { body, token: forged })).status).toBe(401);
      expect((await call(method, path, { body, token: 'not-a-jwt' })).status).toBe(401);

      const customer = await call(method, path, { body, token: customerToken });
      expect(customer.status).toBe(403);
      expect((customer.body as Problem).type).toBe('https://dispatch.dev/problems/forbidden');
    });
  });

  describe('PUT /api/inventory/items/{itemId}', () => {
    it('creates (201 + Location), then replaces (200)', async () => {
      const itemId = uniqueName('sku');
      const created = await put(itemId, validItem);
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/api/inventory/items/${itemId}`);
      expect(created.body).toEqual({ itemId, ...validItem, reserved: 0 });

      const replaced = await put(itemId, {
        name: 'Beans',
        unitPrice: '13.00',
        currency: 'EUR',
        available: 4,
      });
      expect(replaced.status).toBe(200);
      expect(replaced.headers.get('location')).toBeNull();
      expect(replaced.body).toEqual({
        itemId,
        name: 'Beans',
        unitPrice: '13.00',
        currency: 'EUR',
        available: 4,
        reserved: 0,
      });

      const read = await call('GET', `/api/inventory/items/${itemId}`, { token: adminToken });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(replaced.body);
    });

    it('lists every bad field (400), and refuses to set reserved', async () => {
      const res = await put(uniqueName('sku'), {
        name: '',
        unitPrice: '12.5',
        currency: 'XYZ',
        available: -1,
        reserved: 3,
      });
      expect(res.status).toBe(400);
      const problem = res.body as Problem;
      expect(problem.type).toBe('https://dispatch.dev/problems/validation-failed');
      expect(problem.errors?.map((e) => e.path).sort()).toEqual([
        '(root)',
        'available',
        'currency',
        'name',
        'unitPrice',
      ]);
      expect(problem.errors?.find((e) => e.path === '(root)')?.message).toMatch(/reserved/);
    });

    it('refuses malformed JSON, a missing body and an item id orders could not name (400)', async () => {
      const itemPath = `/api/inventory/items/${uniqueName('sku')}`;
      expect(
        (
          await call('PUT', itemPath, {
            token: adminToken,
            rawBody: '{"name": ',
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(400);
      expect((await call('PUT', itemPath, { token: adminToken })).status).toBe(400);
      for (const badId of ['x'.repeat(65), 'sku with spaces', 'sku/slash']) {
        const res = await put(badId, validItem);
        expect(res.status).toBe(400);
        expect((res.body as Problem).errors?.map((e) => e.path)).toEqual(['itemId']);
      }
    });

    it('replacing available leaves units reserved for orders reserved', async () => {
      const itemId = uniqueName('sku');
      await put(itemId, validItem);
      // An order reserves 3 of the 10 (through the real handler, on the service's own pool).
      const reserve = pipeline(service.ctx.pool as Pool);
      await reserve(orderCreated([{ itemId, quantity: 3, unitPrice: '12.50' }]));
      const before = await call('GET', `/api/inventory/items/${itemId}`, { token: adminToken });
      expect(before.body).toMatchObject({ available: 7, reserved: 3 });

      const restocked = await put(itemId, { ...validItem, available: 5 });

      expect(restocked.status).toBe(200);
      expect(restocked.body).toMatchObject({ available: 5, reserved: 3 });
    });
  });

  describe('GET /api/inventory/items/{itemId}', () => {
    it('answers 404 as problem+json for an unknown item', async () => {
      const res = await call('GET', '/api/inventory/items/sku-nope', { token: adminToken });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((res.body as Problem).detail).toContain('sku-nope');
    });
  });

  describe('GET /api/inventory/items', () => {
    it('pages through the whole catalogue in itemId order with an opaque cursor', async () => {
      for (const suffix of ['c', 'a', 'e', 'b', 'd']) await put(`page-${suffix}`, validItem);
      const all = await call('GET', '/api/inventory/items?limit=200', { token: adminToken });
      const expected = (all.body as { items: ItemView[] }).items.map((i) => i.itemId);
      expect(expected.length).toBeGreaterThanOrEqual(5);
      expect(expected).toEqual([...expected].sort((p, q) => (Buffer.from(p) < Buffer.from(q) ? -1 : 1)));
      expect((all.body as { nextCursor: string | null }).nextCursor).toBeNull();

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
        const page = await call('GET', `/api/inventory/items?${query}`, { token: adminToken });
        expect(page.status).toBe(200);
        const body = page.body as { items: ItemView[]; nextCursor: string | null };
        expect(body.items.length).toBeLessThanOrEqual(2);
        seen.push(...body.items.map((i) => i.itemId));
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor && pages < 100);
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / 2));
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ])('refuses %s (400)', async (query, field) => {
      const res = await call('GET', `/api/inventory/items?${query}`, { token: adminToken });
      expect(res.status).toBe(400);
      expect((res.body as Problem).errors?.map((e) => e.path)).toEqual([field]);
    });
  });

  it('serves its OpenAPI document, health and metrics', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    const paths = (doc.body as { paths: Record<string, Record<string, { security?: unknown }>> }).paths;
    expect(Object.keys(paths).sort()).toEqual(['/api/inventory/items', '/api/inventory/items/{itemId}']);
    expect(Object.keys(paths['/api/inventory/items/{itemId}'] ?? {}).sort()).toEqual(['get', 'put']);
    expect(paths['/api/inventory/items/{itemId}']?.put?.security).toEqual([{ bearerAuth: [] }]);

    expect((await call('GET', '/health/ready')).status).toBe(200);

    await put(uniqueName('sku'), validItem); // at least one item, so the totals are not trivially 0
    const all = await call('GET', '/api/inventory/items?limit=200', { token: adminToken });
    const items = (all.body as { items: ItemView[] }).items;
    const sum = (field: 'available' | 'reserved') => items.reduce((total, i) => total + i[field], 0);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('# TYPE inventory_reservations_total counter');
    expect(text).toContain('# TYPE inventory_releases_total counter');
    // Catalogue-wide totals read at scrape time, never one series per item.
    expect(text).toContain(
      `inventory_units{state="available",service="inventory-service"} ${sum('available')}`,
    );
    expect(text).toContain(
      `inventory_units{state="reserved",service="inventory-service"} ${sum('reserved')}`,
    );
    expect(sum('available')).toBeGreaterThan(0);
  });
});
