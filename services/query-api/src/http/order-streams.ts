import { isTerminal } from '@dispatch/contracts';
import { DomainError, type Logger } from '@dispatch/platform';
import type { Response } from 'express';
import type { Gauge } from 'prom-client';
import type { OrderChanges } from '../changes';
import type { OrderResponse } from '../domain/order-response';
import type { StreamLease, StreamLeases } from './stream-leases';

/**
 * Server-Sent Events for one order's live view (GET /api/orders/{id}/events).
 *
 * Protocol: `retry: <ms>`, then `event: order` with the full view (the GET body) on connect and
 * after every change; `: heartbeat` comment lines while idle; after a view with a terminal status
 * one `event: end` with `{"status": …}`, and the server closes the stream. When the token the stream
 * was opened with expires, one `event: token-expired` with `{"expiredAt": …}`, and the server closes
 * the stream (reconnect with a fresh token).
 *
 * Limits: at most `maxStreams` open streams per instance (503 beyond), and at most `leases.max` per
 * customer (token subject) across all instances (429 beyond; StreamLeases).
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

/** 429: the customer already holds as many streams as one customer may. */
export class CustomerStreamLimitError extends DomainError {
  constructor(max: number, retryAfterSeconds: number) {
    super(
      429,
      'too-many-streams-per-customer',
      'Too many requests',
      `A customer may hold at most ${max} order streams open at once; close one, or retry after ${retryAfterSeconds} s.`,
      { retryAfterSeconds, limit: max },
    );
  }
}

/** setTimeout's longest delay (about 24.8 days); a longer wait is re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

export interface StreamStart {
  /** The instance slot from `reserve`. */
  release: () => void;
  /** The customer's lease (StreamLeases), given back when the stream ends. */
  lease?: StreamLease;
  /** When the token the stream was opened with expires: the stream ends then. */
  expiresAt?: Date;
}

export interface OrderStreamsOptions {
  maxStreams: number;
  /** Streams per customer across instances; absent: no per-customer limit. */
  leases?: StreamLeases;
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

  /**
   * Takes one of the customer's stream slots (across instances); throws CustomerStreamLimitError when
   * they hold all of theirs. Undefined without a per-customer limit.
   */
  async leaseFor(subject: string): Promise<StreamLease | undefined> {
    const leases = this.opts.leases;
    if (!leases) return undefined;
    const outcome = await leases.acquire(subject);
    if (outcome.kind === 'refused') throw new CustomerStreamLimitError(leases.max, leases.retryAfterSeconds);
    return outcome.lease;
  }

  /** Takes over the response; the instance slot passes to the stream, the lease is given back at its end. */
  start(res: Response, orderId: string, initial: OrderResponse, slot: StreamStart): void {
    const stream = new OrderStream(res, orderId, this.opts, slot.expiresAt, () => {
      this.streams.delete(stream);
      slot.lease?.release();
      this.opts.openGauge.set(this.streams.size);
    });
    this.streams.add(stream);
    slot.release();
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
  private expiry: NodeJS.Timeout | undefined;
  private unsubscribe: () => void = () => {};
  private readonly logger: Logger;

  constructor(
    private readonly res: Response,
    private readonly orderId: string,
    private readonly opts: OrderStreamsOptions,
    private readonly expiresAt: Date | undefined,
    private readonly onClosed: () => void,
  ) {
    this.logger = opts.logger.child({ orderId, component: 'order-stream' });
  }

  begin(initial: OrderResponse): void {
    // The client went away while the stream was being set up: its 'close' has been and gone.
    if (this.res.destroyed || !this.res.socket || this.res.socket.destroyed) {
      this.close('client disconnected');
      return;
    }
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
    if (this.expiresAt) this.endAtExpiry(this.expiresAt);
    this.logger.debug('order stream opened');
  }

  /** Ends the stream when its token expires (at once when it already has). */
  private endAtExpiry(expiresAt: Date): void {
    const wait = expiresAt.getTime() - Date.now();
    if (wait <= 0) {
      this.write(`event: token-expired\ndata: ${JSON.stringify({ expiredAt: expiresAt.toISOString() })}\n\n`);
      this.close('token expired');
      return;
    }
    this.expiry = setTimeout(() => this.endAtExpiry(expiresAt), Math.min(wait, MAX_TIMER_MS));
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
    clearTimeout(this.expiry);
    this.unsubscribe();
    if (!this.res.writableEnded) this.res.end();
    this.onClosed();
    this.logger.debug({ reason }, 'order stream closed');
  }
}
