import type { Logger } from '../logger';
import { laneKey } from './lane';

/** A partition's next offset to commit (the one after the last message it finished). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Commits consumed offsets on a short timer instead of one request per batch. A lane hands over the
 * offset of a batch it has made durable (its transaction committed, its dead letters published) and
 * goes on at once; within `intervalMs` the offsets of every partition that moved meanwhile go in one
 * OffsetCommit request, the highest of each. So an offset is still never committed before its batch
 * is durable; what a crash can cost is at most `intervalMs` of finished batches being delivered again,
 * which the inbox absorbs as it does any redelivery. No timer runs while nothing is pending.
 *
 * A failed commit keeps its offsets for the next attempt (a later offset of the same partition
 * replaces them). `discard()` drops what is pending when the partitions may have gone to another
 * member (a rebalance): committing them later could move that member's committed offset back.
 */
export class OffsetCommitter {
  private pending = new Map<string, PartitionOffset>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  /** Bumped by discard(): a commit that fails afterwards does not put its offsets back. */
  private generation = 0;

  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new RangeError(`commitIntervalMs must be an integer >= 1, got ${intervalMs}`);
    }
  }

  /** Records offsets to commit with the next flush (starting its timer if none runs). */
  add(offsets: readonly PartitionOffset[]): void {
    this.merge(offsets);
    if (this.pending.size === 0) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }

  /**
   * Commits everything pending, one request after any commit in flight (so a partition's offsets
   * reach the broker in order). Resolves when done; never rejects: a failure is logged and its
   * offsets go back to pending for the next flush.
   */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight = this.inFlight.then(async () => {
      if (this.pending.size === 0) return;
      const offsets = [...this.pending.values()];
      const generation = this.generation;
      this.pending = new Map();
      try {
        await this.commit(offsets);
      } catch (err) {
        this.logger.warn(
          { err, partitions: offsets.length },
          'offset commit failed; will retry with the next flush',
        );
        // Offsets added meanwhile are newer: add keeps the highest of each partition.
        if (generation === this.generation) this.add(offsets);
      }
    });
    return this.inFlight;
  }

  /** Forgets what is pending (and stops the timer): the partitions may belong to another member now. */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.generation += 1;
  }

  /** Keeps the highest offset of each partition (compared as 64-bit numbers). */
  private merge(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) {
      const key = laneKey(o.topic, o.partition);
      const seen = this.pending.get(key);
      if (!seen || BigInt(o.offset) > BigInt(seen.offset)) this.pending.set(key, o);
    }
  }
}
