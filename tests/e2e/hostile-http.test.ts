import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createPool } from '@dispatch/platform';
import {
  requireRunningServices,
  SERVICE_NAMES,
  serviceUrl,
  stackAddresses,
  tokenFor,
} from '@dispatch/testkit';
import { expectStatus, http, orderBody, postOrder } from './support/api';
import { CASES, RAW_CASES } from './support/hostile-cases';
import { type Case, customerOf, type RawCase, RUN, TARGET } from './support/hostile-routes';

/**
 * The hostile-input corpus (issue 9, item 3): every route of every service, sent bad URLs, bad text in
 * its fields, bodies that do not decompress, foreign charsets, absurd nesting and requests Node's
 * parser refuses. Each case asserts the exact status and `application/problem+json`; the last test
 * asserts that none of it reached the databases. The corpus is built in support/hostile-cases.ts from
 * the routes in support/hostile-routes.ts.
 *
 * Every id, name and customer a case uses carries RUN, so what the run could have written is found
 * by that marker whatever other tests do on the stack at the same time.
 */

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/** The order the cancel cases target (placed in beforeAll); its cancellation columns must stay empty. */
let targetOrderId = '';

// ---- sending -----------------------------------------------------------------------------------

interface Answer {
  status: number;
  contentType: string | undefined;
  text: string;
}

const tokens = new Map<string, Promise<string>>();
function tokenOf(c: Case): Promise<string> {
  const n = c.headers?.['x-case'] ?? '0';
  const sub = c.auth === 'admin' ? `${RUN}-a${n}` : customerOf(Number(n));
  let token = tokens.get(sub);
  if (!token) {
    token = tokenFor(sub, c.auth);
    tokens.set(sub, token);
  }
  return token;
}

/** node:http sends `path` byte for byte (fetch would normalise it) and the body exactly as given. */
async function send(c: Case): Promise<Answer> {
  const url = new URL(serviceUrl(c.service));
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: `Bearer ${await tokenOf(c)}`,
    ...c.headers,
  };
  if (c.body) headers['content-length'] = String(c.body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: c.method,
        path: c.path.replace(TARGET, targetOrderId),
        headers,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${c.name} in 30 s`)));
    // The server may answer (413, 415) and close before it read the whole body.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? undefined : reject(err)));
    req.end(c.body);
  });
}

function sendRaw(c: RawCase): Promise<Answer> {
  const url = new URL(serviceUrl(c.service));
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(c.bytes));
    let text = '';
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no answer to ${c.name} in 30 s`)));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    socket.on('close', () => {
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        contentType: /^content-type: (.*)$/im.exec(head)?.[1],
        text: text.slice(head.length + 4),
      });
    });
  });
}

function expectProblem(answer: Answer, status: number): void {
  // One object, so a failure shows status, type and body together.
  const problem =
    answer.contentType === PROBLEM_JSON
      ? (JSON.parse(answer.text) as { status?: number; type?: string })
      : undefined;
  expect({ status: answer.status, contentType: answer.contentType, problemStatus: problem?.status }).toEqual({
    status,
    contentType: PROBLEM_JSON,
    problemStatus: status,
  });
  expect(problem?.type).toMatch(/^https:\/\/dispatch\.dev\/problems\/[a-z-]+$/);
}

// ---- what the run could have written ------------------------------------------------------------

const DATABASES = ['order_db', 'inventory_db', 'payment_db', 'delivery_db'] as const;
type Database = (typeof DATABASES)[number];
const pools = {} as Record<Database, ReturnType<typeof createPool>>;

/** A raw C0/C1 control or DEL, or one escaped in jsonb's text form (\u0000-\u001f). */
const CONTROL = '[\u0001-\u001f\u007f-\u009f]|\\\\u00[01][0-9a-fA-F]';

/** What a probe's `$1` is: rows a case could have written (they carry RUN), or any row with a control. */
type ProbeArg = 'marker' | 'control' | 'target';

/**
 * Row counts the corpus must leave as they were: rows carrying RUN in a field a case set, rows in the
 * affected tables holding a control character (the corpus's payload), and the cancel target's
 * cancellation. Compared before and after, so rows other tests write meanwhile do not matter.
 */
const PROBES: [Database, string, ProbeArg, string][] = [
  [
    'order_db',
    'orders of the run',
    'marker',
    'SELECT count(*) FROM orders WHERE customer_id LIKE $1 OR delivery_address::text LIKE $1',
  ],
  [
    'order_db',
    'orders with controls',
    'control',
    'SELECT count(*) FROM orders WHERE customer_id ~ $1 OR delivery_address::text ~ $1 OR cancel_reason ~ $1',
  ],
  [
    'order_db',
    'the target cancelled',
    'target',
    'SELECT count(*) FROM orders WHERE order_id = $1::uuid AND (cancelled_at IS NOT NULL OR cancel_reason IS NOT NULL)',
  ],
  [
    'order_db',
    'idempotency keys of the run',
    'marker',
    'SELECT count(*) FROM idempotency_keys WHERE scope LIKE $1 OR idempotency_key LIKE $1',
  ],
  ['order_db', 'outbox rows of the run', 'marker', 'SELECT count(*) FROM outbox WHERE payload::text LIKE $1'],
  ['order_db', 'outbox rows of the target', 'target', 'SELECT count(*) FROM outbox WHERE message_key = $1'],
  [
    'order_db',
    'outbox rows with controls',
    'control',
    'SELECT count(*) FROM outbox WHERE payload::text ~ $1',
  ],
  [
    'inventory_db',
    'items of the run',
    'marker',
    'SELECT count(*) FROM items WHERE item_id LIKE $1 OR name LIKE $1',
  ],
  [
    'inventory_db',
    'items with controls',
    'control',
    'SELECT count(*) FROM items WHERE item_id ~ $1 OR name ~ $1',
  ],
  [
    'delivery_db',
    'drivers of the run',
    'marker',
    'SELECT count(*) FROM drivers WHERE driver_id LIKE $1 OR name LIKE $1',
  ],
  [
    'delivery_db',
    'drivers with controls',
    'control',
    'SELECT count(*) FROM drivers WHERE driver_id ~ $1 OR name ~ $1',
  ],
  [
    'delivery_db',
    'deliveries of the run',
    'marker',
    'SELECT count(*) FROM deliveries WHERE order_id LIKE $1',
  ],
  [
    'payment_db',
    'payment orders of the run',
    'marker',
    'SELECT count(*) FROM payment_orders WHERE order_id LIKE $1',
  ],
  ['payment_db', 'payments of the run', 'marker', 'SELECT count(*) FROM payments WHERE order_id LIKE $1'],
];

async function snapshot(): Promise<Record<string, number>> {
  const args: Record<ProbeArg, string> = { marker: `%${RUN}-%`, control: CONTROL, target: targetOrderId };
  const counts: Record<string, number> = {};
  for (const [db, name, arg, sql] of PROBES) {
    const result = await pools[db].query<{ count: string }>(sql, [args[arg]]);
    counts[`${db}: ${name}`] = Number(result.rows[0]?.count);
  }
  return counts;
}

let before: Record<string, number> = {};

beforeAll(async () => {
  await requireRunningServices([...SERVICE_NAMES]);
  for (const db of DATABASES) pools[db] = createPool({ ...stackAddresses().pg, database: db, max: 1 });
  // The cancel cases target a real order (its customer is outside the RUN-c* marker on purpose):
  // after them its cancellation columns must still be empty and no order.cancelled may exist for it.
  const target = `${RUN.replace('hostile-', 'hostile_target-')}`;
  const placed = await postOrder(
    target,
    orderBody(target, [{ itemId: `${RUN}-missing`, quantity: 1, unitPrice: '1.00' }]),
  );
  expectStatus(placed, 201, 'POST /api/orders (the cancel target)');
  targetOrderId = placed.body.orderId;
  before = await snapshot();
});

afterAll(async () => {
  await Promise.all(DATABASES.map((db) => pools[db]?.end()));
});

describe('hostile input at the HTTP edge', () => {
  it('has a corpus of at least 200 cases across the five services', () => {
    const all = [...CASES, ...RAW_CASES];
    expect(all.length).toBeGreaterThanOrEqual(200);
    expect(new Set(all.map((c) => c.service))).toEqual(new Set(SERVICE_NAMES));
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expectProblem(await send(c), c.status);
  });

  it.each(RAW_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expectProblem(await sendRaw(c), c.status);
  });

  it('persisted nothing: every probed row count is as before the corpus', async () => {
    expect(await snapshot()).toEqual(before);
  });

  it('the probes see a write: one valid PUT of an item and a driver of the run shows up in their counts', async () => {
    const admin = await tokenFor(`${RUN}-control`, 'admin');
    const item = await http('PUT', `${serviceUrl('inventory-service')}/api/inventory/items/${RUN}-control`, {
      token: admin,
      body: { name: `${RUN} control item`, unitPrice: '1.00', currency: 'EUR', available: 0 },
    });
    expectStatus(item, 201, 'PUT the control item');
    const driver = await http('PUT', `${serviceUrl('delivery-service')}/api/drivers/${RUN}-control`, {
      token: admin,
      body: { name: `${RUN} control driver`, status: 'OFF_DUTY' },
    });
    expectStatus(driver, 201, 'PUT the control driver');
    expect(await snapshot()).toEqual({
      ...before,
      'inventory_db: items of the run': before['inventory_db: items of the run']! + 1,
      'delivery_db: drivers of the run': before['delivery_db: drivers of the run']! + 1,
    });
  });
});
