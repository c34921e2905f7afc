import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createPool, MAX_JSON_DEPTH } from '@dispatch/platform';
import {
  requireRunningServices,
  SERVICE_NAMES,
  type ServiceName,
  serviceUrl,
  stackAddresses,
  tokenFor,
} from '@dispatch/testkit';
import { expectStatus, http, orderBody, postOrder } from './support/api';

/**
 * The hostile-input corpus (issue 9, item 3): every route of every service, sent bad URLs, bad text in
 * its fields, bodies that do not decompress, foreign charsets, absurd nesting and requests Node's
 * parser refuses. Each case asserts the exact status and `application/problem+json`; the last test
 * asserts that none of it reached the databases.
 *
 * Every id, name and customer a case uses carries RUN, so what the run could have written is found
 * by that marker whatever other tests do on the stack at the same time.
 */

const RUN = `hostile-${randomUUID().slice(0, 8)}`;
const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

type Auth = 'customer' | 'admin';

interface Case {
  name: string;
  service: ServiceName;
  method: string;
  /** Sent byte for byte as the request target. */
  path: string;
  auth: Auth;
  headers?: Record<string, string>;
  body?: Buffer;
  status: number;
}

/** A request Node's HTTP parser must refuse, written to the socket as is. */
interface RawCase {
  name: string;
  service: ServiceName;
  bytes: string;
  status: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

let counter = 0;
/** A fresh suffix per case: own subject (no rate limit shared between cases), own ids. */
const next = () => {
  counter += 1;
  return counter;
};

// ---- the routes, with a valid body each, so a case changes one thing only ------------------------

interface Route {
  service: ServiceName;
  method: string;
  /** `{id}` is the path parameter. */
  template: string;
  auth: Auth;
  /** A valid id for the parameter (hostile cases replace it). */
  id?: (n: number) => string;
  body?: (n: number) => unknown;
}

/** The customer a case's token names and its order's customerId. */
const customerOf = (n: number) => `${RUN}-c${n}`;

/** The order the cancel cases target (placed in beforeAll); its cancellation columns must stay empty. */
let targetOrderId = '';
const TARGET = '{target}';

const ROUTES: Route[] = [
  {
    service: 'order-service',
    method: 'POST',
    template: '/api/orders',
    auth: 'customer',
    body: (n) => orderBody(customerOf(n), [{ itemId: `${RUN}-missing`, quantity: 1, unitPrice: '1.00' }]),
  },
  {
    service: 'order-service',
    method: 'POST',
    template: '/api/orders/{id}/cancel',
    auth: 'admin',
    // Cases are built when the file loads, before the target exists: send() fills it in.
    id: () => TARGET,
    body: () => ({ reason: `${RUN} changed my mind` }),
  },
  {
    service: 'payment-service',
    method: 'GET',
    template: '/api/payments/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-o${n}`,
  },
  {
    service: 'inventory-service',
    method: 'PUT',
    template: '/api/inventory/items/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-i${n}`,
    body: () => ({ name: `${RUN} item`, unitPrice: '1.00', currency: 'EUR', available: 1 }),
  },
  {
    service: 'inventory-service',
    method: 'GET',
    template: '/api/inventory/items/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-i${n}`,
  },
  { service: 'inventory-service', method: 'GET', template: '/api/inventory/items', auth: 'admin' },
  {
    service: 'delivery-service',
    method: 'PUT',
    template: '/api/drivers/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-d${n}`,
    body: () => ({ name: `${RUN} driver`, status: 'OFF_DUTY' }),
  },
  {
    service: 'delivery-service',
    method: 'GET',
    template: '/api/drivers/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-d${n}`,
  },
  { service: 'delivery-service', method: 'GET', template: '/api/drivers', auth: 'admin' },
  {
    service: 'delivery-service',
    method: 'GET',
    template: '/api/deliveries/{id}',
    auth: 'admin',
    id: (n) => `${RUN}-o${n}`,
  },
  {
    service: 'delivery-service',
    method: 'POST',
    template: '/api/drivers/{id}/position',
    auth: 'admin',
    id: (n) => `${RUN}-d${n}`,
    body: () => ({ lat: 51.5, lng: -0.1 }),
  },
  {
    service: 'delivery-service',
    method: 'POST',
    template: '/api/deliveries/{id}/complete',
    auth: 'admin',
    id: (n) => `${RUN}-o${n}`,
    body: () => ({}),
  },
  { service: 'query-api', method: 'GET', template: '/api/orders', auth: 'customer' },
  {
    service: 'query-api',
    method: 'GET',
    template: '/api/orders/{id}',
    auth: 'customer',
    id: (n) => `${RUN}-o${n}`,
  },
  {
    service: 'query-api',
    method: 'GET',
    template: '/api/orders/{id}/events',
    auth: 'customer',
    id: (n) => `${RUN}-o${n}`,
  },
];

function caseFor(
  route: Route,
  name: string,
  change: { id?: string; query?: string; headers?: Record<string, string>; body?: Buffer },
  status: number,
): Case {
  const n = next();
  const id = change.id ?? route.id?.(n) ?? '';
  const path = route.template.replace('{id}', id) + (change.query ?? '');
  const valid = route.body?.(n);
  const body = change.body ?? (valid === undefined ? undefined : json(valid));
  return {
    name: `${route.service} ${route.method} ${route.template}: ${name}`,
    service: route.service,
    method: route.method,
    path,
    auth: route.auth,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...change.headers,
      'x-case': String(n),
    },
    ...(body === undefined ? {} : { body }),
    status,
  };
}

// ---- 1. the request target ------------------------------------------------------------------------

/** Path segments that must never reach a route: not UTF-8 once decoded, or a control character. */
const BAD_SEGMENTS: [string, string][] = [
  ['an invalid UTF-8 byte', '%FF'],
  ['a truncated UTF-8 sequence', '%E0%A4'],
  ['an overlong encoding of "/"', '%C0%AF'],
  ['an encoded UTF-16 surrogate', '%ED%A0%80'],
  ['a lone percent sign', '100%'],
  ['a non-hex escape', '%ZZ'],
  ['an encoded NUL', '%00'],
  ['a NUL inside an id', 'sku%00x'],
  ['an encoded line feed', 'a%0Ab'],
  ['an encoded terminal escape', '%1B%5B2J'],
  ['an encoded DEL', '%7F'],
  ['an encoded C1 control', '%C2%85'],
];

const BAD_QUERY_VALUES: [string, string][] = [
  ['NUL', '%00'],
  ['an invalid UTF-8 byte', '%FF'],
  ['a truncated UTF-8 sequence', '%E0%A4'],
  ['an escape character', 'a%1Bb'],
];

const QUERY_PARAMS: Record<string, string[]> = {
  'inventory-service GET /api/inventory/items': ['cursor', 'limit'],
  'delivery-service GET /api/drivers': ['cursor', 'limit'],
  'query-api GET /api/orders': ['pageState', 'customerId'],
  'query-api GET /api/orders/{id}': ['unknown'],
  'order-service POST /api/orders': ['unknown'],
};

function urlCases(): Case[] {
  const cases: Case[] = [];
  for (const route of ROUTES) {
    if (route.template.includes('{id}')) {
      for (const [name, segment] of BAD_SEGMENTS) {
        cases.push(caseFor(route, `path parameter with ${name}`, { id: segment }, 400));
      }
    }
    for (const param of QUERY_PARAMS[`${route.service} ${route.method} ${route.template}`] ?? []) {
      for (const [name, value] of BAD_QUERY_VALUES) {
        cases.push(caseFor(route, `query ${param} with ${name}`, { query: `?${param}=${value}` }, 400));
      }
    }
  }
  // The platform's own endpoints, and paths no route matches, answer the same way.
  for (const service of SERVICE_NAMES) {
    const own = (template: string): Route => ({ service, method: 'GET', template, auth: 'customer' });
    cases.push(caseFor(own('/openapi.json'), 'query with NUL', { query: '?x=%00' }, 400));
    cases.push(caseFor(own('/openapi.json'), 'query with an invalid UTF-8 byte', { query: '?%FF' }, 400));
    cases.push(caseFor(own('/health/live'), 'query with NUL', { query: '?x=%00' }, 400));
    cases.push(
      caseFor(own('/health/ready'), 'query with a truncated UTF-8 sequence', { query: '?x=%E0%A4' }, 400),
    );
    cases.push(caseFor(own('/metrics'), 'query with an escape character', { query: '?%1B=1' }, 400));
    cases.push(caseFor(own('/no/such/{id}'), 'no route, an invalid UTF-8 byte', { id: '%FF' }, 400));
    cases.push(caseFor(own('/no/such/{id}'), 'no route, an encoded NUL', { id: '%00' }, 400));
  }
  // The Idempotency-Key header is printable ASCII only (Node passes a latin-1 byte through as is).
  const orders = ROUTES[0]!;
  cases.push(
    caseFor(
      orders,
      'an Idempotency-Key with a non-ASCII byte',
      { headers: { 'idempotency-key': `${RUN}-k\u00e9` } },
      400,
    ),
  );
  cases.push(
    caseFor(
      orders,
      'an Idempotency-Key of 256 characters',
      { headers: { 'idempotency-key': `${RUN}-${'k'.repeat(256)}` } },
      400,
    ),
  );
  return cases;
}

// ---- 2. text in the fields (the shared schemas) ---------------------------------------------------

/** Text no single-line field may hold. JSON.stringify writes controls and lone surrogates as \u escapes. */
const BAD_TEXT: [string, string][] = [
  ['a NUL', '\u0000'],
  ['a NUL inside', 'Baker\u0000Street'],
  ['a lone high surrogate', 'x\ud800'],
  ['a lone low surrogate', '\udfffx'],
  ['a terminal escape', '\u001b[2J'],
  ['DEL', 'a\u007f'],
  ['a C1 control', 'a\u0085b'],
  ['a bell', 'ding\u0007'],
  ['a carriage return', 'a\rb'],
  ['a tab', 'a\tb'],
  ['a line feed', 'a\nb'],
];

/** Free text (the cancel reason) keeps tab and line feed, nothing else. */
const BAD_FREE_TEXT = BAD_TEXT.filter(([, text]) => text !== 'a\tb' && text !== 'a\nb');

type Body = Record<string, unknown>;

/** Sets `body.a.b` for the path `['a', 'b']`. */
function setAt(body: Body, path: string[], value: string): void {
  const parent = path.slice(0, -1).reduce((obj, key) => obj[key] as Body, body);
  parent[path[path.length - 1]!] = value;
}

/** Every free-form text field of a request body; the ids in paths are covered by the URL cases. */
function textCases(): Case[] {
  const route = (method: string, template: string) =>
    ROUTES.find((r) => r.method === method && r.template === template)!;
  const fields: [Route, string[], [string, string][]][] = [
    [route('POST', '/api/orders'), ['customerId'], BAD_TEXT],
    [route('POST', '/api/orders'), ['deliveryAddress', 'line1'], BAD_TEXT],
    [route('POST', '/api/orders'), ['deliveryAddress', 'line2'], BAD_TEXT],
    [route('POST', '/api/orders'), ['deliveryAddress', 'city'], BAD_TEXT],
    [route('POST', '/api/orders'), ['deliveryAddress', 'postcode'], BAD_TEXT],
    [route('POST', '/api/orders/{id}/cancel'), ['reason'], BAD_FREE_TEXT],
    [route('PUT', '/api/inventory/items/{id}'), ['name'], BAD_TEXT],
    [route('PUT', '/api/drivers/{id}'), ['name'], BAD_TEXT],
  ];
  const cases: Case[] = [];
  for (const [r, path, texts] of fields) {
    for (const [name, text] of texts) {
      const body = r.body?.(0) as Body;
      setAt(body, path, text);
      cases.push(caseFor(r, `${path.join('.')} with ${name}`, { body: json(body) }, 400));
    }
  }
  return cases;
}

// ---- 3. the body as bytes: encodings, charsets, nesting, size ----------------------------------

/** The valid body plus an ignored field `x` of nested arrays, so the whole body is `depth` levels deep. */
function nestedBody(valid: unknown, depth: number): Buffer {
  const base = JSON.stringify(valid ?? {});
  return Buffer.from(
    `${base.slice(0, -1)}${base === '{}' ? '' : ','}"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`,
  );
}

function bodyCases(): Case[] {
  const cases: Case[] = [];
  for (const route of ROUTES.filter((r) => r.body)) {
    const valid = () => json(route.body?.(0));
    const body = (b: Buffer, headers: Record<string, string> = {}) => ({ body: b, headers });
    const variants: [string, ReturnType<typeof body>, number][] = [
      ['a gzip body that is not gzip', body(valid(), { 'content-encoding': 'gzip' }), 400],
      ['a deflate body that is not deflate', body(valid(), { 'content-encoding': 'deflate' }), 400],
      ['a br body that is not brotli', body(valid(), { 'content-encoding': 'br' }), 400],
      ['a truncated gzip body', body(gzipSync(valid()).subarray(0, 15), { 'content-encoding': 'gzip' }), 400],
      ['gzip declared as deflate', body(gzipSync(valid()), { 'content-encoding': 'deflate' }), 400],
      ['an unknown content encoding', body(valid(), { 'content-encoding': 'compress' }), 415],
      [
        'a gzip body that inflates past the size limit',
        body(gzipSync(Buffer.from(`{"x":"${' '.repeat(2_000_000)}"}`)), { 'content-encoding': 'gzip' }),
        413,
      ],
      ['a body past the size limit', body(Buffer.from(`{"x":"${'a'.repeat(200_000)}"}`)), 413],
      ['charset=utf-7', body(valid(), { 'content-type': 'application/json; charset=utf-7' }), 415],
      [
        'charset=utf-16le',
        body(Buffer.from(JSON.stringify(route.body?.(0)), 'utf16le'), {
          'content-type': 'application/json; charset=utf-16le',
        }),
        415,
      ],
      [
        'charset=iso-8859-1',
        body(valid(), { 'content-type': 'application/json; charset="ISO-8859-1"' }),
        415,
      ],
      [
        'charset=utf-7 on a deflated body',
        body(deflateSync(valid()), {
          'content-type': 'application/json; charset=utf-7',
          'content-encoding': 'deflate',
        }),
        415,
      ],
      [
        `JSON nested ${MAX_JSON_DEPTH + 1} levels deep`,
        body(nestedBody(route.body?.(0), MAX_JSON_DEPTH + 1)),
        400,
      ],
      [
        'JSON nested 30000 levels deep with an Idempotency-Key',
        body(nestedBody(route.body?.(0), 30_000), { 'idempotency-key': `${RUN}-k${next()}` }),
        400,
      ],
      [
        'brotli JSON nested 30000 levels deep',
        body(brotliCompressSync(nestedBody(route.body?.(0), 30_000)), { 'content-encoding': 'br' }),
        400,
      ],
      ['malformed JSON', body(Buffer.from('{"name": "x",')), 400],
    ];
    for (const [name, change, status] of variants) cases.push(caseFor(route, name, change, status));
  }
  return cases;
}

// ---- 4. requests Node's parser refuses ---------------------------------------------------------

function rawCases(): RawCase[] {
  const cases: RawCase[] = [];
  for (const service of SERVICE_NAMES) {
    const host = new URL(serviceUrl(service)).host;
    cases.push(
      {
        name: `${service}: a raw NUL in the request target`,
        service,
        bytes: `GET /api/x\u0000y HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        status: 400,
      },
      {
        name: `${service}: a raw control character in the request target`,
        service,
        bytes: `GET /api/\u001bx HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        status: 400,
      },
      {
        name: `${service}: a NUL in a header value`,
        service,
        bytes: `GET /health/live HTTP/1.1\r\nHost: ${host}\r\nX-A: a\u0000b\r\n\r\n`,
        status: 400,
      },
      {
        name: `${service}: a header name with a space`,
        service,
        bytes: `GET /health/live HTTP/1.1\r\nHost: ${host}\r\nBad Header: x\r\n\r\n`,
        status: 400,
      },
      {
        name: `${service}: headers larger than the server takes`,
        service,
        bytes: `GET /health/live HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
        status: 431,
      },
    );
  }
  return cases;
}

const CASES: Case[] = [...urlCases(), ...textCases(), ...bodyCases()];
const RAW_CASES: RawCase[] = rawCases();

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
