import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/**
 * A tiny OTLP/HTTP trace collector for end-to-end tests: a node:http server that accepts
 * POST /v1/traces with the JSON encoding (what @opentelemetry/exporter-trace-otlp-http sends)
 * and keeps every span it receives, flattened to what the tests look at.
 */

export type SpanKindName = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

export type AttributeValue = string | number | boolean;

export interface CollectedSpan {
  /** The resource's service.name. */
  service: string;
  /** The instrumentation scope, e.g. @opentelemetry/instrumentation-pg. */
  scope: string;
  traceId: string;
  spanId: string;
  /** Undefined for a span that started its trace here. */
  parentSpanId: string | undefined;
  name: string;
  kind: SpanKindName;
  attributes: Record<string, AttributeValue>;
}

export interface OtlpCollector {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  url: string;
  /** Every span received so far. */
  spans(): CollectedSpan[];
  /** The spans of one trace. */
  trace(traceId: string): CollectedSpan[];
  /** Requests the collector could not accept (wrong path, not JSON, malformed), one line each. */
  rejected(): string[];
  close(): Promise<void>;
}

// OTLP's SpanKind enum: 0 unspecified, then the API's kinds shifted by one.
const KIND_NAMES: readonly SpanKindName[] = [
  'UNSPECIFIED',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
];

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const received: CollectedSpan[] = [];
  const rejected: string[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reject = (status: number, why: string) => {
        rejected.push(`${req.method} ${req.url}: ${why}`);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(why);
      };
      if (req.method !== 'POST' || req.url !== '/v1/traces') return reject(404, 'only POST /v1/traces');
      const contentType = req.headers['content-type'] ?? '';
      if (!contentType.startsWith('application/json')) {
        return reject(415, `expected application/json (OTLP/HTTP JSON), got ${contentType || 'nothing'}`);
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        received.push(...flattenExportRequest(JSON.parse(body.toString('utf8'))));
      } catch (err) {
        return reject(400, err instanceof Error ? err.message : String(err));
      }
      // An ExportTraceServiceResponse with nothing partially rejected.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    trace: (traceId) => received.filter((span) => span.traceId === traceId),
    rejected: () => [...rejected],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** ExportTraceServiceRequest (JSON) → one CollectedSpan per span. Throws on anything malformed. */
export function flattenExportRequest(request: unknown): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const resourceSpans of arrayAt(request, 'resourceSpans')) {
    const resource = attributesOf(field(resourceSpans, 'resource'));
    const service = resource['service.name'];
    if (typeof service !== 'string') throw new Error('a resource has no service.name');
    for (const scopeSpans of arrayAt(resourceSpans, 'scopeSpans')) {
      const scopeName = field(field(scopeSpans, 'scope'), 'name');
      const scope = typeof scopeName === 'string' ? scopeName : '';
      for (const span of arrayAt(scopeSpans, 'spans')) {
        const parent = field(span, 'parentSpanId');
        spans.push({
          service,
          scope,
          traceId: stringAt(span, 'traceId'),
          spanId: stringAt(span, 'spanId'),
          parentSpanId: typeof parent === 'string' && parent !== '' ? parent : undefined,
          name: stringAt(span, 'name'),
          kind: kindOf(field(span, 'kind')),
          attributes: attributesOf(span),
        });
      }
    }
  }
  return spans;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function arrayAt(value: unknown, key: string): unknown[] {
  const found = field(value, key);
  if (found === undefined) return [];
  if (!Array.isArray(found)) throw new Error(`${key} is not an array`);
  return found;
}

function stringAt(value: unknown, key: string): string {
  const found = field(value, key);
  if (typeof found !== 'string') throw new Error(`span field ${key} is not a string`);
  return found;
}

function kindOf(kind: unknown): SpanKindName {
  // The protobuf JSON mapping allows the enum's number or its name.
  if (typeof kind === 'number') return KIND_NAMES[kind] ?? 'UNSPECIFIED';
  if (typeof kind === 'string') {
    const name = kind.replace(/^SPAN_KIND_/, '');
    return KIND_NAMES.find((k) => k === name) ?? 'UNSPECIFIED';
  }
  return 'UNSPECIFIED';
}

/** OTLP KeyValue list → plain record (scalars only; arrays and maps are kept as JSON text). */
function attributesOf(holder: unknown): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const entry of arrayAt(holder, 'attributes')) {
    const key = field(entry, 'key');
    if (typeof key !== 'string') continue;
    const value = field(entry, 'value');
    const scalar =
      field(value, 'stringValue') ??
      field(value, 'boolValue') ??
      field(value, 'intValue') ??
      field(value, 'doubleValue');
    if (typeof scalar === 'string' || typeof scalar === 'boolean') attributes[key] = scalar;
    else if (typeof scalar === 'number') attributes[key] = scalar;
    else attributes[key] = JSON.stringify(value);
  }
  return attributes;
}

export interface TraceContext {
  /** The W3C traceparent header value (sampled). */
  header: string;
  traceId: string;
  /** The span id the header names: the caller's span, which no collector ever receives. */
  parentSpanId: string;
}

/** A fresh, sampled W3C trace context to send with a request, so the test knows its trace id. */
export function newTraceContext(): TraceContext {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentSpanId}-01`, traceId, parentSpanId };
}

/** The database a client span talks to (old and stable semantic conventions). */
export function dbSystemOf(span: CollectedSpan): AttributeValue | undefined {
  return span.attributes['db.system'] ?? span.attributes['db.system.name'];
}

/** One line per span, for failure messages. */
export function describeSpans(spans: CollectedSpan[]): string {
  return spans
    .map((s) => `  ${s.service} ${s.kind} "${s.name}" ${s.spanId} <- ${s.parentSpanId ?? '(root)'}`)
    .join('\n');
}
