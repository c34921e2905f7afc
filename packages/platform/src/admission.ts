import { OverloadedError } from './errors';

/**
 * Admission control for one HTTP server: at most `maxConcurrent` requests are handled at once, at
 * most `maxQueue` more wait (first come, first served) for a slot, and none waits longer than
 * `maxWaitMs`. Whatever does not fit is refused at once with an OverloadedError (503 + Retry-After),
 * so an overloaded service answers fast instead of letting requests pile up behind its database pool.
 */
export interface AdmissionOptions {
  /**
   * Requests handled at once. At most the service's PostgreSQL pool size (default 10 = PG_POOL_MAX's
   * default): a request holds one connection at a time, so every admitted request can be served, and
   * the pool's FIFO queue makes a consumer wait at most about one transaction for its connection. On
   * the 2-core machine 10 served the most orders per second: 6 left connections idle while requests
   * queued, 20 queued them inside the pool instead, until checkouts timed out.
   */
  maxConcurrent: number;
  /** Requests waiting for a slot; one more is refused at once (default 50, 0 = no queue). */
  maxQueue: number;
  /** The longest a request waits for a slot before it is refused (default 1000 ms). */
  maxWaitMs: number;
  /** The `Retry-After` of a refusal, in whole seconds (default 1). */
  retryAfterSeconds: number;
}

export const DEFAULT_ADMISSION: Readonly<AdmissionOptions> = Object.freeze({
  maxConcurrent: 10,
  maxQueue: 50,
  maxWaitMs: 1_000,
  retryAfterSeconds: 1,
});

/** Gives the slot back; calling it again does nothing. */
export type AdmissionRelease = () => void;

interface Waiter {
  resolve: (release: AdmissionRelease) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** The settings with defaults filled in; throws a RangeError for a setting that makes no sense. */
export function admissionOptions(opts: Partial<AdmissionOptions> = {}): AdmissionOptions {
  const resolved = { ...DEFAULT_ADMISSION, ...opts };
  const check = (name: keyof AdmissionOptions, min: number) => {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`admission ${name} must be an integer >= ${min}, got ${value}`);
    }
  };
  check('maxConcurrent', 1);
  check('maxQueue', 0);
  check('maxWaitMs', 1);
  check('retryAfterSeconds', 1);
  return resolved;
}

/** The limiter behind the admission middleware: pure bookkeeping and timers, no HTTP. */
export class AdmissionLimiter {
  readonly options: AdmissionOptions;
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(opts: Partial<AdmissionOptions> = {}) {
    this.options = admissionOptions(opts);
  }

  /** Requests holding a slot. */
  get inFlight(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A slot at once, or undefined when none is free (or others are already waiting for one). */
  tryAcquire(): AdmissionRelease | undefined {
    if (this.active >= this.options.maxConcurrent || this.waiting.length > 0) return undefined;
    this.active += 1;
    return this.releaser();
  }

  /**
   * Resolves with a slot's release once one is free. Rejects with an OverloadedError at once when the
   * queue is full (`queue_full`), or after `maxWaitMs` without a slot (`queue_timeout`); and with the
   * signal's reason when `signal` aborts first (the client went away), which gives up the place in the
   * queue.
   */
  acquire(signal?: AbortSignal): Promise<AdmissionRelease> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(
        new OverloadedError(
          'queue_full',
          this.options.retryAfterSeconds,
          `This instance is handling ${this.options.maxConcurrent} requests and has ${this.options.maxQueue} more waiting; retry after ${this.options.retryAfterSeconds} s.`,
        ),
      );
    }
    return new Promise<AdmissionRelease>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        signal,
        timer: setTimeout(() => {
          this.dropWaiter(waiter);
          reject(
            new OverloadedError(
              'queue_timeout',
              this.options.retryAfterSeconds,
              `No capacity became free within ${this.options.maxWaitMs} ms; retry after ${this.options.retryAfterSeconds} s.`,
            ),
          );
        }, this.options.maxWaitMs),
        onAbort: () => {
          this.dropWaiter(waiter);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): AdmissionRelease {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.admitNext();
    };
  }

  /** Hands a free slot to the longest-waiting request. */
  private admitNext(): void {
    const next = this.waiting.shift();
    if (!next) return;
    this.settle(next);
    this.active += 1;
    next.resolve(this.releaser());
  }

  private dropWaiter(waiter: Waiter): void {
    const index = this.waiting.indexOf(waiter);
    if (index >= 0) this.waiting.splice(index, 1);
    this.settle(waiter);
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}
