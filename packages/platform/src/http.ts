import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { DomainError, NotFoundError, PayloadTooLargeError, ValidationError } from './errors';
import { type HealthCheck, runHealthChecks } from './health';
import type { Logger } from './logger';
import type { PlatformMetrics } from './metrics';

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
 * The one express 5 app factory: request ids, JSON body limit, request metrics and logs,
 * health and metrics endpoints, and a single error middleware that answers
 * `application/problem+json` for typed domain errors (anything else is a 500 that hides internals).
 */
export function createHttpApp(opts: HttpAppOptions): HttpApp {
  const { logger, metrics } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  let shuttingDown = false;

  app.use(requestContext(logger, metrics));
  app.use(
    express.json({ limit: opts.bodyLimit ?? '64kb', type: ['application/json', 'application/*+json'] }),
  );

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

  opts.routes(app);

  app.use((req, _res, next) => next(new NotFoundError(`No route for ${req.method} ${req.path}.`)));
  app.use(problemHandler(logger));

  let server: Server | undefined;
  return {
    app,
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, host, (err?: Error) => {
          if (err) return reject(err);
          resolve((s.address() as AddressInfo).port);
        });
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
      const level = res.statusCode >= 500 ? 'error' : 'debug';
      res.locals.logger[level]({ method: req.method, path: req.path, status: res.statusCode }, 'request');
    });
    next();
  };
}

/** The one place errors become HTTP responses. */
function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toDomainError(err);
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

/** Maps body-parser failures to domain errors; returns undefined for unknown errors. */
function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
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
