import { isTerminal } from '@dispatch/contracts';
import { DomainError, type Logger } from '@dispatch/platform';
import type { Response } from 'express';
import type { Gauge } from 'prom-client';
import type { OrderChanges } from '../changes';
import type { OrderResponse } from '../domain/order-response';

/**
 * Server-Sent Events for one order's live view (GET /api/orders/{id}/events).
 *
 * Protocol: `retry: <ms>`, then `event: order` with the full view (the GET body) on connect and
 * after every change; `: heartbeat` comment lines while idle; after a view with a terminal status
 * one `event: end` with `{"status": …}`, and the server closes the stream.
 *
 * A change is noticed at once when this instance's consumer applied an event of the order
 * (OrderChanges), and within `pollMs` otherwise (another instance applied it): each stream
 * re-reads its order and sends the view only when it differs from the last one sent.
 */

export class TooManyStreamsError extends DomainError {
  constructor(max: number) {
    super(
      503,
      'too-many-streams',
      'Service unavailable',
      `This instance serves at most ${max} order streams; retry later.`,
      {
        retryAfterSeconds: 5,
      },
    );
  }
}

export interface OrderStreamsOptions {
  maxStreams: number;
  heartbeatMs: number;
  pollMs: number;
  /** Sent as the stream's `retry:` (how long a client waits before reconnecting). */
  reconnectMs?: number;
  changes: OrderChanges;
  /** Re-reads the view (the active generation). */
  load: (orderId: string) => Promise<OrderResponse | undefined>;
  openGauge: Gauge;
  logger: Logger;
}

export class OrderStreams {
  private readonly streams = new Set<OrderStream>();
  private reserved = 0;

  constructor(private readonly opts: OrderStreamsOptions) {}

  get openCount(): number {
    return this.streams.size;
  }

  /**
   * Holds a slot before the (asynchronous) auth and first read, so concurrent connects cannot
   * overshoot the cap. Returns the release for the case the stream never starts.
   */
  reserve(): () => void {
    if (this.streams.size + this.reserved >= this.opts.maxStreams)
      throw new TooManyStreamsError(this.opts.maxStreams);
    this.reserved += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= 1;
    };
  }

  /** Takes over the response; `release` is the slot from `reserve`. */
  start(res: Response, orderId: string, initial: OrderResponse, release: () => void): void {
    const stream = new OrderStream(res, orderId, this.opts, () => {
      this.streams.delete(stream);
      this.opts.openGauge.set(this.streams.size);
    });
    this.streams.add(stream);
    release();
    this.opts.openGauge.set(this.streams.size);
    stream.begin(initial);
  }

  /** Ends every stream (shutdown): clients reconnect, to another instance. */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close('server shutting down');
  }
}

class OrderStream {
  private lastSent = '';
  private sequence = 0;
  private reading = false;
  private readAgain = false;
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private unsubscribe: () => void = () => {};
  private readonly logger: Logger;

  constructor(
    private readonly res: Response,
    private readonly orderId: string,
    private readonly opts: OrderStreamsOptions,
    private readonly onClosed: () => void,
  ) {
    this.logger = opts.logger.child({ orderId, component: 'order-stream' });
  }

  begin(initial: OrderResponse): void {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // Stops nginx-style proxies from buffering the stream.
      'X-Accel-Buffering': 'no',
    });
    // A client that goes away ends the stream (and frees its slot).
    this.res.on('close', () => this.close('client disconnected'));
    this.res.write(`retry: ${this.opts.reconnectMs ?? 3_000}\n\n`);
    this.send(initial);
    if (this.closed) return;
    this.unsubscribe = this.opts.changes.subscribe(this.orderId, () => void this.refresh());
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), this.opts.heartbeatMs);
    this.poll = setInterval(() => void this.refresh(), this.opts.pollMs);
    this.logger.debug('order stream opened');
  }

  /** Re-reads the order; a change noticed while reading triggers one more read afterwards. */
  private async refresh(): Promise<void> {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const view = await this.opts.load(this.orderId);
        if (view && !this.closed) this.send(view);
      } while (this.readAgain && !this.closed);
    } catch (err) {
      // The next change or poll tries again; the client keeps its last view meanwhile.
      this.logger.warn({ err }, 'order stream could not re-read its order');
    } finally {
      this.reading = false;
    }
  }

  private send(view: OrderResponse): void {
    const data = JSON.stringify(view);
    if (data === this.lastSent) return;
    this.lastSent = data;
    this.sequence += 1;
    this.write(`event: order\nid: ${this.sequence}\ndata: ${data}\n\n`);
    if (isTerminal(view.status)) {
      this.write(`event: end\ndata: ${JSON.stringify({ status: view.status })}\n\n`);
      this.close('terminal status');
    }
  }

  private write(chunk: string): void {
    if (!this.closed && !this.res.writableEnded) this.res.write(chunk);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.poll);
    this.unsubscribe();
    if (!this.res.writableEnded) this.res.end();
    this.onClosed();
    this.logger.debug({ reason }, 'order stream closed');
  }
}
