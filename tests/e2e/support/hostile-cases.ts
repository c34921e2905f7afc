import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { MAX_JSON_DEPTH } from '@dispatch/platform';
import { SERVICE_NAMES, serviceUrl } from '@dispatch/testkit';
import { type Case, caseFor, json, next, type RawCase, ROUTES, type Route, RUN } from './hostile-routes';

/** The hostile-input corpus sent by hostile-http.test.ts, built from the routes in hostile-routes.ts. */

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

export const CASES: Case[] = [...urlCases(), ...textCases(), ...bodyCases()];
export const RAW_CASES: RawCase[] = rawCases();
