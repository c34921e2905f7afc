import pino from 'pino';
import { AdmissionLimiter, admissionOptions, DEFAULT_ADMISSION } from './admission';
import { OverloadedError } from './errors';
import { createHttpApp, type HttpApp } from './http';
import { createMetrics } from './metrics';

/** Settles the microtasks a resolved acquire() schedules. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => {
      state.value = value;
      state.settled = true;
    },
    (error: unknown) => {
      state.error = error;
      state.settled = true;
    },
  );
  return state;
}

describe('AdmissionLimiter', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('admits up to maxConcurrent at once, then queues', async () => {
    const limiter = new AdmissionLimiter({ maxConcurrent: 2, maxQueue: 5, maxWaitMs: 1_000 });
    const a = limiter.tryAcquire();
    const b = limiter.tryAcquire();
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
    const c = track(limiter.acquire());
    await flush();
    expect(c.settled).toBe(false);
    expect([limiter.inFlight, limiter.queued]).toEqual([2, 1]);
  });

  it('hands a freed slot to the longest-waiting request (FIFO)', async () => {
    const limiter = new AdmissionLimiter({ maxConcurrent: 1, maxQueue: 5, maxWaitMs: 1_000 });
    const first = limiter.tryAcquire()!;
    const order: string[] = [];
    const second = limiter.acquire().then((release) => {
      order.push('second');
      return release;
    });
    const third = limiter.acquire().then((release) => {
      order.push('third');
      return release;
    });
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect([limiter.inFlight, limiter.queued]).toEqual([0, 0]);
  });

  it('does not let a newcomer overtake requests already waiting', async () => {
    const limiter = new AdmissionLimiter({ maxConcurrent: 1, maxQueue: 5, maxWaitMs: 1_000 });
    const first = limiter.tryAcquire()!;
    const waiting = track(limiter.acquire());
    first();
    // The slot went to the waiter, so a fresh request finds none free.
    expect(limiter.tryAcquire()).toBeUndefined();
    await flush();
    expect(waiting.settled).toBe(true);
    expect(limiter.inFlight).toBe(1);
  });

  it('refuses at once with 503 queue_full and Retry-After when the queue is full', async () => {
    const limiter = new AdmissionLimiter({
      maxConcurrent: 1,
      maxQueue: 2,
      maxWaitMs: 1_000,
      retryAfterSeconds: 3,
    });
    limiter.tryAcquire();
    const queued = [track(limiter.acquire()), track(limiter.acquire())];
    const refused = track(limiter.acquire());
    await flush();
    expect(refused.error).toBeInstanceOf(OverloadedError);
    const err = refused.error as OverloadedError;
    expect({ status: err.status, code: err.code, reason: err.reason, extensions: err.extensions }).toEqual({
      status: 503,
      code: 'overloaded',
      reason: 'queue_full',
      extensions: { retryAfterSeconds: 3 },
    });
    expect(queued.map((q) => q.settled)).toEqual([false, false]);
    expect(limiter.queued).toBe(2);
  });

  it('with maxQueue 0 refuses whatever finds no free slot', async () => {
    const limiter = new AdmissionLimiter({ maxConcurrent: 1, maxQueue: 0, maxWaitMs: 1_000 });
    limiter.tryAcquire();
    await expect(limiter.acquire()).rejects.toMatchObject({ reason: 'queue_full' });
  });

  it('refuses a request that waited maxWaitMs with queue_timeout, and drops it from the queue', async () => {
    jest.useFakeTimers();
    const limiter = new AdmissionLimiter({ maxConcurrent: 1, maxQueue: 5, maxWaitMs: 1_500 });
    const holder = limiter.tryAcquire()!;
    const waiting = track(limiter.acquire());
    jest.advanceTimersByTime(1_499);
    await Promise.resolve();
    expect(waiting.settled).toBe(false);
    jest.advanceTimersByTime(1);
    await Promise.resolve();
    expect(waiting.error).toMatchObject({ status: 503, reason: 'queue_timeout' });
    expect(limiter.queued).toBe(0);
    // The slot it never got is not handed to it later.
    holder();
    expect([limiter.inFlight, limiter.queued]).toEqual([0, 0]);
  });

  it('a release called twice frees one slot', () => {
    const limiter = new AdmissionLimiter({ maxConcurrent: 2, maxQueue: 0, maxWaitMs: 1_000 });
    const a = limiter.tryAcquire()!;
    limiter.tryAcquire();
    a();
    a();
    expect(limiter.inFlight).toBe(1);
  });

  it('gives up the place in the queue when the signal aborts', async () => {
    const limiter = new AdmissionLimiter({ maxConcurrent: 1, maxQueue: 5, maxWaitMs: 1_000 });
    const holder = limiter.tryAcquire()!;
    const gone = new AbortController();
    const waiting = track(limiter.acquire(gone.signal));
    const next = track(limiter.acquire());
    gone.abort(new Error('client went away'));
    await flush();
    expect((waiting.error as Error).message).toBe('client went away');
    expect(limiter.queued).toBe(1);
    holder();
    await flush();
    expect(next.settled).toBe(true);
    expect(limiter.inFlight).toBe(1);
  });

  it('fills in defaults and refuses settings that make no sense', () => {
    expect(admissionOptions()).toEqual(DEFAULT_ADMISSION);
    expect(admissionOptions({ maxQueue: 0 }).maxQueue).toBe(0);
    expect(() => admissionOptions({ maxConcurrent: 0 })).toThrow(RangeError);
    expect(() => admissionOptions({ maxWaitMs: 1.5 })).toThrow(/maxWaitMs/);
    expect(() => admissionOptions({ retryAfterSeconds: 0 })).toThrow(/retryAfterSeconds/);
  });
});

describe('createHttpApp admission control', () => {
  let http: HttpApp;
  let base: string;
  const gates: (() => void)[] = [];
  const metrics = createMetrics('admission-test');

  beforeAll(async () => {
    http = createHttpApp({
      service: 'admission-test',
      logger: pino({ level: 'silent' }),
      metrics,
      readinessChecks: [],
      admission: { maxConcurrent: 1, maxQueue: 1, maxWaitMs: 300, retryAfterSeconds: 2 },
      routes: (app) => {
        // Answers when the test opens its gate.
        app.get('/slow', async (_req, res) => {
          await new Promise<void>((resolve) => gates.push(resolve));
          res.json({ ok: true });
        });
        app.get('/fast', (_req, res) => {
          res.json({ ok: true });
        });
        // A stream: the head goes out at once, the body much later.
        app.get('/stream', (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(': open\n\n');
          gates.push(() => res.end());
        });
        app.get('/pool-timeout', async () => {
          throw new Error('timeout exceeded when trying to connect');
        });
      },
    });
    base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  });

  afterAll(async () => {
    for (const open of gates.splice(0)) open();
    await http.close();
  });

  const openGates = () => {
    for (const open of gates.splice(0)) open();
  };

  async function untilGates(count: number): Promise<void> {
    while (gates.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  async function expectOverloaded(res: Response, reason: string) {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({
      type: 'https://dispatch.dev/problems/overloaded',
      title: 'Service overloaded',
      status: 503,
      detail: expect.any(String),
      retryAfterSeconds: 2,
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      new RegExp(`^http_requests_rejected_total\\{reason="${reason}",service="admission-test"\\} [1-9]`, 'm'),
    );
  }

  it('queues one request behind the busy one and refuses the next at once', async () => {
    const busy = fetch(`${base}/slow`);
    await untilGates(1);
    const queued = fetch(`${base}/fast`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const refused = await fetch(`${base}/fast`);
    expect(Date.now() - started).toBeLessThan(250);
    await expectOverloaded(refused, 'queue_full');
    // Health and metrics are not admission-controlled.
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    openGates();
    expect((await busy).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it('refuses a request that waited longer than maxWaitMs', async () => {
    const busy = fetch(`${base}/slow`);
    await untilGates(1);
    const started = Date.now();
    const waited = await fetch(`${base}/fast`);
    const elapsed = Date.now() - started;
    await expectOverloaded(waited, 'queue_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    openGates();
    expect((await busy).status).toBe(200);
    expect((await fetch(`${base}/fast`)).status).toBe(200);
  });

  it('frees the slot once a streaming response has sent its head', async () => {
    const stream = await fetch(`${base}/stream`);
    expect(stream.status).toBe(200);
    // The stream is still open, yet the next request is served.
    expect((await fetch(`${base}/fast`)).status).toBe(200);
    openGates();
    await stream.text();
  });

  it('answers a pool checkout timeout 503 overloaded, not 500', async () => {
    await expectOverloaded(await fetch(`${base}/pool-timeout`), 'db_pool_timeout');
  });

  it('reports in-flight and queued requests', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^http_requests_in_flight\{service="admission-test"\} 0$/m);
    expect(text).toMatch(/^http_requests_queued\{service="admission-test"\} 0$/m);
  });
});
