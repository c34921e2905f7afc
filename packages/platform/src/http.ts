import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Response } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AdmissionLimiter, type AdmissionOptions, type AdmissionRelease } from './admission';
import {
  DomainError,
  NotFoundError,
  OverloadedError,
  type OverloadReason,
  PayloadTooLargeError,
  ValidationError,
} from './errors';
import { type HealthCheck, runHealthChecks } from './health';
import { answerClientError, edgeError, rejectHostileRequests, verifyJsonDepth } from './http-edge';
import type { Logger } from './logger';
import type { PlatformMetrics } from './metrics';
import { pgErrorCode } from './pg';

export { AdmissionLimiter, type AdmissionOptions, admissionOptions, DEFAULT_ADMISSION } from './admission';
export { MAX_JSON_DEPTH } from './http-edge';

const PROBLEM_TYPE_BASE = 'https://dispatch.dev/problems/';
const REQUEST_ID_HEADER = 'x-request-id';

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  metrics: PlatformMetrics;
  /** Dependencies checked by GET /health/ready. */
  readinessChecks: HealthCheck[];
  /** express.json limit, e.g. '64kb'. Larger bodies get 413. */
  bodyLimit?: string;
  /** Adds the service's own routes (and route-level middleware). */
  routes: (app: Express) => void;
  /**
   * Admission control for every route but `/health/*` and `/metrics`: how many requests are handled at
   * once, how many may wait and for how long (see AdmissionOptions; defaults in DEFAULT_ADMISSION).
   * `false` turns it off. A refused request gets 503 `overloaded` with `Retry-After`.
   */
  admission?: Partial<AdmissionOptions> | false;
}

export interface HttpApp {
  app: Express;
  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Readiness turns 503 at once, so load balancers stop routing here before the server closes. */
  markShuttingDown(): void;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

/**
 * The one express 5 app factory: request ids, request metrics and logs, health and metrics endpoints,
 * admission control, JSON body limit, and a single error middleware that answers
 * `application/problem+json` for typed domain errors (anything else is a 500 that hides internals).
 *
 * Admission control bounds the requests handled at once and the queue in front of them; a request
 * that finds the queue full, or waits longer than the maximum, is answered 503 `overloaded` with
 * `Retry-After` at once. A request whose PostgreSQL pool checkout times out gets the same 503, never a
 * 500: both mean "no capacity now, nothing done, retry". Health probes and `/metrics` bypass it, so an
 * overloaded instance still reports on itself.
 */
export function createHttpApp(opts: HttpAppOptions): HttpApp {
  const { logger, metrics } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  let shuttingDown = false;
  const limiter = opts.admission === false ? undefined : new AdmissionLimiter(opts.admission ?? {});
  const overload = overloadMetrics(metrics.registry, limiter);
  const retryAfterSeconds = limiter?.options.retryAfterSeconds ?? 1;

  app.use(requestContext(logger, metrics));
  // Before everything else, probes included: a malformed URL or a non-UTF-8 body is a 400/415 on every route.
  app.use(rejectHostileRequests());

  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health/ready', async (_req, res) => {
    if (shuttingDown) {
      res.status(503).json({ status: 'unavailable', checks: {}, reason: 'shutting down' });
      return;
    }
    const report = await runHealthChecks(opts.readinessChecks);
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // Everything registered from here on is admission-controlled; the routes above are not.
  if (limiter) app.use(admissionControl(limiter));
  app.use(
    express.json({
      limit: opts.bodyLimit ?? '64kb',
      type: ['application/json', 'application/*+json'],
      // Too deep a body is refused before it is parsed, hashed (Idempotency-Key) or validated.
      verify: verifyJsonDepth,
    }),
  );

  opts.routes(app);

  app.use((req, _res, next) => next(new NotFoundError(`No route for ${req.method} ${req.path}.`)));
  app.use(problemHandler(logger, overload.rejected, retryAfterSeconds));

  let server: Server | undefined;
  return {
    app,
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, host, (err?: Error) => {
          if (err) return reject(err);
          resolve((s.address() as AddressInfo).port);
        });
        // A request Node's parser refuses still gets a problem+json answer.
        s.on('clientError', answerClientError);
        server = s;
      }),
    markShuttingDown: () => {
      shuttingDown = true;
    },
    close: () =>
      new Promise((resolve, reject) => {
        shuttingDown = true;
        if (!server) return resolve();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function requestContext(logger: Logger, metrics: PlatformMetrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.locals.logger = logger.child({ requestId });
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const stop = metrics.httpRequestDuration.startTimer();
    res.on('finish', () => {
      // The route template (not the raw path) keeps label cardinality low.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      stop({ method: req.method, route, status_code: String(res.statusCode) });
      // A 503 is the service refusing work it has no capacity for (or readiness off): worth a warning,
      // not an error per refused request.
      const level = res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : 'debug';
      res.locals.logger[level]({ method: req.method, path: req.path, status: res.statusCode }, 'request');
    });
    next();
  };
}

const OVERLOAD_REASONS: readonly OverloadReason[] = [
  'queue_full',
  'queue_timeout',
  'db_pool_timeout',
  'db_too_many_connections',
];

interface OverloadMetrics {
  rejected: Counter<'reason'>;
}

/**
 * http_requests_rejected_total{reason} (every reason from 0, so an alert's increase() sees the first),
 * and, with admission on, http_requests_in_flight and http_requests_queued read at scrape time. In the
 * service's own registry; a second app on the same registry shares the counter.
 */
function overloadMetrics(registry: Registry, limiter: AdmissionLimiter | undefined): OverloadMetrics {
  const existing = registry.getSingleMetric('http_requests_rejected_total') as Counter<'reason'> | undefined;
  const rejected =
    existing ??
    new Counter({
      name: 'http_requests_rejected_total',
      help: 'HTTP requests refused with 503 overloaded, by reason (queue_full, queue_timeout, db_pool_timeout, db_too_many_connections).',
      labelNames: ['reason'],
      registers: [registry],
    });
  for (const reason of OVERLOAD_REASONS) rejected.inc({ reason }, 0);
  if (limiter && !registry.getSingleMetric('http_requests_in_flight')) {
    new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being handled now (holding an admission slot).',
      registers: [registry],
      collect() {
        this.set(limiter.inFlight);
      },
    });
    new Gauge({
      name: 'http_requests_queued',
      help: 'HTTP requests waiting for an admission slot.',
      registers: [registry],
      collect() {
        this.set(limiter.queued);
      },
    });
  }
  return { rejected };
}

/**
 * Holds each request until the limiter gives it a slot (or refuses it: 503 through the error
 * middleware). The slot is given back when the response's head is written, or when the connection
 * closes first: a streaming response (Server-Sent Events) counts while it computes its first answer,
 * not for as long as the stream stays open.
 */
function admissionControl(limiter: AdmissionLimiter): RequestHandler {
  return (_req, res, next) => {
    const now = limiter.tryAcquire();
    if (now) {
      holdUntilAnswered(res, now);
      next();
      return;
    }
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    limiter.acquire(gone.signal).then(
      (release) => {
        res.off('close', onClose);
        holdUntilAnswered(res, release);
        next();
      },
      (err: unknown) => {
        res.off('close', onClose);
        // Otherwise the client went away while waiting: there is no one to answer.
        if (err instanceof OverloadedError) next(err);
      },
    );
  };
}

function holdUntilAnswered(res: Response, release: AdmissionRelease): void {
  if (res.headersSent || res.writableEnded || res.destroyed) {
    release();
    return;
  }
  res.once('close', release);
  res.once('finish', release);
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    release();
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
}

/** The one place errors become HTTP responses. */
function problemHandler(
  logger: Logger,
  rejected: Counter<'reason'>,
  retryAfterSeconds: number,
): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toOverloadedError(err, retryAfterSeconds) ?? toDomainError(err);
    if (problem instanceof OverloadedError) rejected.inc({ reason: problem.reason });
    if (!problem) {
      (res.locals.logger ?? logger).error({ err }, 'unhandled error');
    }
    const e = problem ?? new DomainError(500, 'internal', 'Internal server error', 'Something went wrong.');
    if (res.headersSent) return;
    const retryAfter = e.extensions.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    res
      .status(e.status)
      .type('application/problem+json')
      .json({
        type: `${PROBLEM_TYPE_BASE}${e.code}`,
        title: e.title,
        status: e.status,
        detail: e.message,
        instance: req.originalUrl,
        requestId: res.locals.requestId,
        ...e.extensions,
      });
  };
}

/** pg-pool's error when no pooled connection became free within connectionTimeoutMillis. */
const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';
/** SQLSTATE too_many_connections: the server's max_connections is reached. */
const TOO_MANY_CONNECTIONS = '53300';

/**
 * A database that has no connection for us now is overload, not a bug: a pool checkout that timed out,
 * or PostgreSQL refusing a new connection. Looks through `cause` chains, since callers may wrap.
 */
function toOverloadedError(err: unknown, retryAfterSeconds: number): OverloadedError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof DomainError) return undefined;
    if (e.message === POOL_TIMEOUT_MESSAGE) {
      return new OverloadedError(
        'db_pool_timeout',
        retryAfterSeconds,
        `No database connection became free in time; retry after ${retryAfterSeconds} s.`,
      );
    }
    if (pgErrorCode(e) === TOO_MANY_CONNECTIONS) {
      return new OverloadedError(
        'db_too_many_connections',
        retryAfterSeconds,
        `The database has no connection to spare; retry after ${retryAfterSeconds} s.`,
      );
    }
  }
  return undefined;
}

/** Maps body-parser and router failures to domain errors; returns undefined for unknown errors. */
function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  const edge = edgeError(err);
  if (edge) return edge;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return new PayloadTooLargeError();
  if (type === 'entity.parse.failed') {
    return new ValidationError([{ path: '(body)', message: 'Body is not valid JSON.' }], 'Malformed JSON.');
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new DomainError(415, 'unsupported-media-type', 'Unsupported media type', String(err));
  }
  return undefined;
}
