/**
 * A sleep that can be cut short (the outbox relay sleeps on one between passes): wake() ends a wakeable
 * wait, or, with nobody waiting, makes the next wakeable wait return at once; interrupt() ends any
 * wait in progress.
 */
export class WakeSignal {
  private pending = false;
  private wakeWaiter: (() => void) | undefined;
  private interruptWait: (() => void) | undefined;

  wake(): void {
    if (this.wakeWaiter) this.wakeWaiter();
    else this.pending = true;
  }

  /** Forgets a wake that arrived while nobody waited (the caller is about to do what it asked for). */
  clear(): void {
    this.pending = false;
  }

  interrupt(): void {
    this.interruptWait?.();
  }

  /** Waits `ms`; wake() (when `wakeable`) or interrupt() ends the wait early. True when wake() did. */
  wait(ms: number, wakeable: boolean): Promise<boolean> {
    if (wakeable && this.pending) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        this.interruptWait = undefined;
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      this.interruptWait = () => done(false);
      if (wakeable) this.wakeWaiter = () => done(true);
    });
  }
}
