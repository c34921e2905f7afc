import pino from 'pino';
import { z } from 'zod';
import { ConflictError, validate } from './errors';
import type { HealthCheck } from './health';
import { createHttpApp, type HttpApp } from './http';
import { createMetrics } from './metrics';

interface Problem {
  type: string;
  detail: string;
  status: number;
  errors: { path: string }[];
  checks: Record<string, unknown>;
}
const json = async (res: Response) => (await res.json()) as Problem;

describe('createHttpApp', () => {
  let http: HttpApp;
  let base: string;
  let dbUp = true;
  const db: HealthCheck = {
    name: 'postgres',
    check: async () => {
      if (!dbUp) throw new Error('connection refused');
    },
  };

  beforeAll(async () => {
    http = createHttpApp({
      service: 'test-service',
      logger: pino({ level: 'silent' }),
      metrics: createMetrics('test-service'),
      readinessChecks: [db],
      bodyLimit: '1kb',
      routes: (app) => {
        app.post('/things', (req, res) => {
          const body = validate(
            z.object({ name: z.string().min(1), count: z.number().int().positive() }),
            req.body,
          );
          res.status(201).json(body);
        });
        app.post('/conflict', () => {
          throw new ConflictError('Already there.');
        });
        app.get('/boom', async () => {
          throw new Error('secret internal detail');
        });
      },
    });
    const port = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => http.close());

  const post = (path: string, body: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('accepts a valid body', async () => {
    const res = await post('/things', JSON.stringify({ name: 'a', count: 2 }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: 'a', count: 2 });
  });

  it('names every bad field in a problem+json 400', async () => {
    const res = await post('/things', JSON.stringify({ name: '', count: -1 }));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await json(res);
    expect(problem).toMatchObject({ status: 400, title: 'Validation failed', instance: '/things' });
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['count', 'name']);
  });

  it('answers 400 for malformed JSON and 413 for an oversized body', async () => {
    expect((await post('/things', '{"name":')).status).toBe(400);
    const big = await post('/things', JSON.stringify({ name: 'x'.repeat(2048), count: 1 }));
    expect(big.status).toBe(413);
    expect((await json(big)).type).toMatch(/payload-too-large$/);
  });

  it('maps typed domain errors and hides unexpected ones', async () => {
    const conflict = await post('/conflict', '{}');
    expect(conflict.status).toBe(409);
    expect((await json(conflict)).detail).toBe('Already there.');
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expect(JSON.stringify(await boom.json())).not.toContain('secret');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('echoes a request id or makes one', async () => {
    const echoed = await fetch(`${base}/health/live`, { headers: { 'x-request-id': 'req-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-123');
    const made = await fetch(`${base}/health/live`);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports readiness from its dependency checks', async () => {
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    dbUp = false;
    const down = await fetch(`${base}/health/ready`);
    expect(down.status).toBe(503);
    expect((await json(down)).checks.postgres).toMatchObject({
      status: 'unavailable',
      error: 'connection refused',
    });
    dbUp = true;
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });

  it('serves Prometheus metrics with route templates as labels', async () => {
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/things"[^}]*status_code="201"/);
  });
});
