import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { unsafeCharacterIn } from '@dispatch/contracts';
import type { Request, RequestHandler } from 'express';
import { DomainError, ValidationError } from './errors';

/**
 * Hostile input at the HTTP edge: checks that run before any route, so every service answers a bad
 * URL, a body in a foreign charset or absurdly nested JSON with a 4xx problem, never a 500, and before
 * anything is stored or hashed. Field-level rules (no control characters in text) live in the shared
 * zod schemas of @dispatch/contracts; this module applies the same rule to the URL.
 */

/**
 * The deepest JSON nesting a body may have (objects and arrays, the root counts as 1). Our deepest
 * request body is 3 levels (order → items → line); 32 leaves room for any client, while code that walks
 * a body recursively (the Idempotency-Key hash, JSON.stringify) stays far from the stack limit.
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when the JSON text in `body` nests objects/arrays deeper than `maxDepth`. One pass over the
 * raw bytes, without parsing and without recursion; brackets inside strings do not count. Works on
 * UTF-8 bytes because every byte of a multi-byte UTF-8 sequence is ≥ 0x80, so it is never mistaken for
 * a quote, a backslash or a bracket. Malformed JSON is left to the parser.
 */
export function jsonDepthExceeds(body: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i += 1) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH)
        i += 1; // the escaped byte cannot end the string
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}

/** express.json's `verify` hook: refuses a too-deep body before JSON.parse and any handler sees it. */
export function verifyJsonDepth(_req: unknown, _res: unknown, body: Buffer): void {
  if (jsonDepthExceeds(body)) {
    // body-parser passes this error on to the error middleware unchanged (it only adds fields).
    throw new ValidationError(
      [{ path: '(body)', message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` }],
      'The JSON body is nested too deeply.',
    );
  }
}

/**
 * The `charset` parameter of a Content-Type header, lower-cased and unquoted; undefined when there is
 * none. Parameters are `; name=value` pairs (RFC 9110 §8.3.1), names case-insensitive.
 */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return undefined;
}

/**
 * Why the request target cannot be used, or undefined when it is fine: a percent-escape that is not
 * valid UTF-8 (`%FF`, `%E0%A4`, a lone `%`), or a control character or lone surrogate once decoded
 * (`%00`, `%0A`), in the path or in any query parameter. Checked for every request so the answer is
 * the same 400 on every route (express would decode a path parameter only when a route matched, and
 * throw), whatever the route's schema says.
 */
export function requestTargetProblem(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const parts: { where: string; raw: string }[] = [{ where: 'path', raw: path }];
  if (q >= 0) {
    for (const raw of url.slice(q + 1).split('&'))
      parts.push({ where: 'query', raw: raw.replace(/\+/g, ' ') });
  }
  for (const { where, raw } of parts) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return `The ${where} has a malformed percent-escape (not UTF-8).`;
    }
    const bad = unsafeCharacterIn(decoded);
    if (bad) return `The ${where} contains ${bad}.`;
  }
  return undefined;
}

function hasBody(req: Request): boolean {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

/**
 * The first middleware after request ids: a bad request target is 400; a body declared in any charset
 * but UTF-8 is 415 (RFC 8259 requires UTF-8 for JSON; body-parser would decode utf-7 or utf-16 and
 * hand the routes text the client never meant).
 */
export function rejectHostileRequests(): RequestHandler {
  return (req, _res, next) => {
    const target = requestTargetProblem(req.originalUrl);
    if (target) return next(new ValidationError([{ path: '(url)', message: target }], target));
    const charset = charsetOf(req.get('content-type'));
    if (hasBody(req) && charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return next(
        new DomainError(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          `Unsupported charset "${charset}": request bodies must be UTF-8.`,
        ),
      );
    }
    next();
  };
}

/**
 * Errors the HTTP plumbing raises for bad input that are not ours: express's router failing to decode
 * a path parameter, body-parser passing on zlib's error for a corrupt gzip/deflate/br body. Undefined
 * for anything else.
 */
export function edgeError(err: unknown): DomainError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { status, code } = err as Error & { status?: unknown; code?: unknown };
  // router's decodeParam: a URIError with status 400. requestTargetProblem catches these first; this
  // keeps the answer a 400 should a path reach the router another way.
  if (err instanceof URIError && status === 400) {
    return new ValidationError([{ path: '(path)', message: 'malformed percent-escape' }], 'Malformed URL.');
  }
  // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR, ERR__ERROR_FORMAT_PADDING_1 for brotli…), passed on by
  // body-parser with status 400: the Content-Encoding did not match the bytes.
  if (status === 400 && typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__'))) {
    return new ValidationError(
      [{ path: '(body)', message: `not valid compressed data (${code})` }],
      'The body could not be decompressed.',
    );
  }
  return undefined;
}

/**
 * Node's `clientError` handler: a request the HTTP parser refused (a NUL or space in the request target,
 * a malformed header, headers too large) gets a problem+json answer like every other refusal, instead
 * of Node's bare "400 Bad Request". There is no request object, so no request id.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // Mirrors Node's default: nothing to answer on a reset or closed socket, or when a response has begun.
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const code = status === 431 ? 'headers-too-large' : status === 408 ? 'request-timeout' : 'bad-request';
  const body = JSON.stringify({
    type: `https://dispatch.dev/problems/${code}`,
    title: STATUS_CODES[status],
    status,
    detail: 'The HTTP request could not be parsed.',
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
