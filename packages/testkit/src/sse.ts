/**
 * A Server-Sent Events reader over fetch, for query-api's GET /api/orders/{id}/events (the browser's
 * EventSource cannot send an Authorization header). Used by query-api's tests and the load benchmark.
 */
import { eventually } from './eventually';

export interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  /** The next event frame (comments are counted in `comments`, not returned). */
  next(timeoutMs?: number): Promise<SseFrame>;
  /** Heartbeat comment lines seen so far. */
  comments(): number;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, token: string): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  const frames: SseFrame[] = [];
  const waiters: (() => void)[] = [];
  let comments = 0;
  let buffer = '';
  const decoder = new TextDecoder();
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const parse = (block: string) => {
    const frame: SseFrame = { event: 'message', data: '' };
    const data: string[] = [];
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        comments += 1;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') frame.event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') frame.id = value;
      else continue;
      hasField = true;
    }
    if (hasField && data.length > 0) {
      frame.data = data.join('\n');
      frames.push(frame);
    }
  };
  const ended = (async () => {
    if (!response.body) return;
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let split = buffer.indexOf('\n\n');
        while (split >= 0) {
          parse(buffer.slice(0, split));
          buffer = buffer.slice(split + 2);
          split = buffer.indexOf('\n\n');
        }
        wake();
      }
    } catch {
      // aborted by close()
    } finally {
      wake();
    }
  })();
  let done = false;
  void ended.then(() => {
    done = true;
  });

  return {
    status: response.status,
    headers: response.headers,
    comments: () => comments,
    ended,
    close: () => abort.abort(),
    next: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = frames.shift();
        if (frame) return frame;
        if (done) throw new Error('the stream ended before another event arrived');
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no SSE event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

/**
 * Waits until a stream of `url` is let through again (200), as once a slot was freed, and returns
 * it. Every stream opened meanwhile, refused or not, joins `streams`, which the caller closes.
 */
export async function reopenSse(streams: SseClient[], url: string, token: string): Promise<SseClient> {
  return eventually(async () => {
    const again = await openSse(url, token);
    streams.push(again);
    if (again.status !== 200) throw new Error(`${url} still answers ${again.status}`);
    return again;
  });
}
