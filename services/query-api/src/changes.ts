import { EventEmitter } from 'node:events';

/**
 * In-process notice that this instance applied an event of an order, so its open streams re-read
 * it at once. Events applied by other instances are picked up by the streams' periodic re-read.
 */
export class OrderChanges {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open stream of an order; the stream cap bounds them, not this.
    this.emitter.setMaxListeners(0);
  }

  notify(orderId: string): void {
    this.emitter.emit(orderId);
  }

  /** Returns the unsubscribe function. */
  subscribe(orderId: string, listener: () => void): () => void {
    this.emitter.on(orderId, listener);
    return () => this.emitter.off(orderId, listener);
  }
}
