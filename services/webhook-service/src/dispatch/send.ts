import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkResolvedAddresses, checkTargetUrl, type TargetPolicy } from '../domain/target-url';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  policy: TargetPolicy;
}

export type SendResult =
  | { kind: 'answered'; status: number; bodyExcerpt: string }
  /** No answer: refused by the SSRF rules, DNS, connection, TLS or timeout. `error` is for the listing. */
  | { kind: 'error'; error: string };

/** How much of an answer is read (and kept as the attempt's excerpt); the rest is dropped. */
const MAX_ANSWER_BYTES = 1_024;

class TargetRefused extends Error {}

/**
 * A `lookup` for the connection that resolves the host itself, refuses it when any address is not
 * public (unless the policy allows private targets) and hands the socket exactly the address it
 * checked: the connection is pinned to it, so no later DNS answer can point it elsewhere.
 */
export function pinnedLookup(policy: Pick<TargetPolicy, 'allowPrivate'>): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const check = checkResolvedAddresses(
        hostname,
        addresses.map((a) => a.address),
        policy,
      );
      if (!check.ok) return callback(new TargetRefused(check.problem), '', 0);
      const chosen = addresses[0]!;
      if ((options as { all?: boolean }).all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [chosen]);
      }
      callback(null, chosen.address, chosen.family);
    });
  };
}

/**
 * One POST to a webhook endpoint: the URL checked again, the host resolved and pinned, no redirect
 * followed (a 3xx is just a failed answer), no keep-alive, the whole exchange bounded by `timeoutMs`.
 */
export function sendWebhook(req: SendRequest): Promise<SendResult> {
  const checked = checkTargetUrl(req.url, req.policy);
  if (!checked.ok) return Promise.resolve({ kind: 'error', error: `refused: ${checked.problem}` });
  const { url } = checked;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = client.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) },
        // An IP literal never goes through lookup: checkTargetUrl has checked it above.
        lookup: pinnedLookup(req.policy),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          finish({
            kind: 'answered',
            status: response.statusCode ?? 0,
            bodyExcerpt: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES),
          });
          request.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk.subarray(0, MAX_ANSWER_BYTES - size));
          size += chunk.length;
          if (size >= MAX_ANSWER_BYTES) done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ kind: 'error', error: `timeout after ${req.timeoutMs} ms` });
      request.destroy();
    }, req.timeoutMs);
    request.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      const message = err instanceof TargetRefused ? `refused: ${err.message}` : err.message;
      finish({ kind: 'error', error: code && !message.includes(code) ? `${code}: ${message}` : message });
    });
    request.end(req.body);
  });
}
