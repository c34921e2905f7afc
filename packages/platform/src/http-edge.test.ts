import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { createHttpApp, type HttpApp } from './http';
import { charsetOf, jsonDepthExceeds, MAX_JSON_DEPTH, requestTargetProblem } from './http-edge';
import { createMetrics } from './metrics';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonDepthExceeds', () => {
  it.each([
    ['a flat object', '{"a":1}', 1],
    ['an order-shaped body', '{"items":[{"itemId":"a"}],"deliveryAddress":{"line1":"x"}}', 3],
    ['brackets inside strings', '{"a":"[[[[{{{{"}', 1],
    ['an escaped quote inside a string', '{"a":"\\"[[[[","b":1}', 1],
    ['an escaped backslash before the closing quote', '{"a":"\\\\","b":[1]}', 2],
    ['multi-byte UTF-8', '{"name":"東京 🍕 [","x":{"y":[]}}', 3],
    ['a scalar', '"just a string"', 0],
  ])('measures %s', (_name, text, depth) => {
    expect(jsonDepthExceeds(bytes(text), depth)).toBe(false);
    if (depth > 0) expect(jsonDepthExceeds(bytes(text), depth - 1)).toBe(true);
  });

  it('allows exactly MAX_JSON_DEPTH levels and refuses one more', () => {
    expect(jsonDepthExceeds(bytes(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonDepthExceeds(bytes(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
  });

  it('counts depth, not the number of containers', () => {
    const wide = `[${Array.from({ length: 10_000 }, () => '{"a":[1]}').join(',')}]`;
    expect(jsonDepthExceeds(bytes(wide), 3)).toBe(false);
  });

  it('handles a body far deeper than any stack without recursing', () => {
    expect(jsonDepthExceeds(bytes(nested(1_000_000)))).toBe(true);
  });
});

describe('charsetOf', () => {
  it.each([
    [undefined, undefined],
    ['application/json', undefined],
    ['application/json; charset=utf-8', 'utf-8'],
    ['application/json;charset=UTF-8', 'utf-8'],
    ['application/json; Charset="utf-7"', 'utf-7'],
    ['application/json; foo=bar; charset = latin1 ', 'latin1'],
    ['application/json; charset', undefined],
  ])('%s → %s', (header, charset) => {
    expect(charsetOf(header)).toBe(charset);
  });
});

describe('requestTargetProblem', () => {
  it.each([
    '/api/orders/3f1c5c7e-0c9b-4b8e-9a57-2a7b0c1d2e3f',
    '/api/inventory/items/caf%C3%A9',
    '/api/orders?customerId=customer-1&limit=5',
    '/api/drivers?cursor=a%2Fb&x=%F0%9F%8D%95',
    '/api/orders?q=a+b&flag',
    '/',
  ])('accepts %s', (url) => {
    expect(requestTargetProblem(url)).toBeUndefined();
  });

  it.each([
    ['/api/orders/%FF', 'The path has a malformed percent-escape (not UTF-8).'],
    ['/api/orders/%E0%A4', 'The path has a malformed percent-escape (not UTF-8).'],
    ['/api/orders/100%', 'The path has a malformed percent-escape (not UTF-8).'],
    ['/api/orders/%ED%A0%80', 'The path has a malformed percent-escape (not UTF-8).'], // an encoded surrogate
    ['/api/orders/%00', 'The path contains the control character U+0000 at index 12.'],
    ['/api/orders/a%0Ab', 'The path contains the control character U+000A at index 13.'],
    ['/api/orders?limit=%FF', 'The query has a malformed percent-escape (not UTF-8).'],
    ['/api/orders?cursor=%00', 'The query contains the control character U+0000 at index 7.'],
    ['/api/orders?a=1&%1B=2', 'The query contains the control character U+001B at index 0.'],
  ])('refuses %s', (url, problem) => {
    expect(requestTargetProblem(url)).toBe(problem);
  });
});

/** The same checks wired into createHttpApp, against a real server on a free port. */
describe('createHttpApp at the edge', () => {
  let http: HttpApp;
  let base: string;
  let port: number;
  let handled = 0;

  beforeAll(async () => {
    http = createHttpApp({
      service: 'edge-test',
      logger: pino({ level: 'silent' }),
      metrics: createMetrics('edge-test'),
      readinessChecks: [],
      routes: (app) => {
        app.post('/things/:id', (req, res) => {
          handled += 1;
          // The Idempotency-Key hash walks the body recursively, as this does.
          res.json({ id: req.params.id, echo: JSON.stringify(req.body).length });
        });
      },
    });
    port = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => http.close());
  beforeEach(() => {
    handled = 0;
  });

  const post = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  async function expectProblem(response: Response, status: number): Promise<void> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await response.json()) as { status: number }).status).toBe(status);
    expect(handled).toBe(0);
  }

  it('serves a good gzip request', async () => {
    const ok = await post('/things/a', gzipSync('{"x":[1]}'), { 'content-encoding': 'gzip' });
    expect(ok.status).toBe(200);
    expect(handled).toBe(1);
  });

  it('refuses malformed percent-escapes and NUL in the path with 400', async () => {
    await expectProblem(await post('/things/%FF', '{}'), 400);
    await expectProblem(await post('/things/%00', '{}'), 400);
  });

  it('refuses corrupt gzip and deflate bodies with 400', async () => {
    await expectProblem(await post('/things/a', 'not gzip', { 'content-encoding': 'gzip' }), 400);
    await expectProblem(await post('/things/a', 'not deflate', { 'content-encoding': 'deflate' }), 400);
    const truncated = gzipSync('{"x":1}').subarray(0, 12);
    await expectProblem(await post('/things/a', truncated, { 'content-encoding': 'gzip' }), 400);
  });

  it('refuses any charset but UTF-8 with 415', async () => {
    await expectProblem(
      await post('/things/a', '{}', { 'content-type': 'application/json; charset=utf-7' }),
      415,
    );
    await expectProblem(
      await post('/things/a', '{}', { 'content-type': 'application/json; charset=utf-16le' }),
      415,
    );
    const ok = await post('/things/a', '{}', { 'content-type': 'application/json; charset=UTF-8' });
    expect(ok.status).toBe(200);
  });

  it('refuses JSON nested deeper than the limit before a handler walks it', async () => {
    await expectProblem(await post('/things/a', `{"x":${nested(MAX_JSON_DEPTH)}}`), 400);
    const deep = `{"x":${nested(20_000)}}`; // deep enough to overflow JSON.stringify's stack
    await expectProblem(await post('/things/a', deep), 400);
    const fine = await post('/things/a', `{"x":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(fine.status).toBe(200);
  });

  it("answers a request Node's parser refuses with problem+json", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET /things/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Content-Type: application/problem+json; charset=utf-8');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400 });
  });
});
