import type { Logger } from '../logger';
import { errorMessage } from './errors';
import { type ConsumerMetrics, type Lane, laneKey } from './lane';

/** A partition whose current message keeps failing. */
interface Blockage {
  since: number;
  error: string;
  /** Counted in kafka_consumer_blocked_partitions (and failing readiness). */
  reported: boolean;
}

/**
 * The partitions whose current message keeps failing. Past `blockedAfterMs` one counts as blocked:
 * it is counted in kafka_consumer_blocked_partitions and fails the consumer's health check.
 */
export class PartitionBlockages {
  private readonly byLane = new Map<string, Blockage>();

  constructor(
    private readonly blockedAfterMs: number,
    private readonly logger: Logger,
    private readonly metrics: ConsumerMetrics | undefined,
  ) {}

  /** Records a failed try on the lane's partition. */
  noteFailure(lane: Lane, err: unknown): void {
    const key = laneKey(lane.topic, lane.partition);
    const now = Date.now();
    let blockage = this.byLane.get(key);
    if (!blockage) {
      blockage = { since: now, error: '', reported: false };
      this.byLane.set(key, blockage);
    }
    blockage.error = errorMessage(err);
    if (!blockage.reported && now - blockage.since >= this.blockedAfterMs) {
      blockage.reported = true;
      this.metrics?.consumerBlockedPartitions?.inc({ topic: lane.topic });
      this.logger.error(
        { topic: lane.topic, partition: lane.partition, err, blockedMs: now - blockage.since },
        'partition blocked: its current message keeps failing; offset kept, retrying',
      );
    }
  }

  /** The lane's partition moved on (or is no longer ours): it is not blocked any more. */
  noteProgress(lane: Lane): void {
    const key = laneKey(lane.topic, lane.partition);
    const blockage = this.byLane.get(key);
    if (!blockage) return;
    this.byLane.delete(key);
    if (!blockage.reported) return;
    this.metrics?.consumerBlockedPartitions?.dec({ topic: lane.topic });
    this.logger.info(
      { topic: lane.topic, partition: lane.partition, blockedMs: Date.now() - blockage.since },
      'partition unblocked',
    );
  }

  /** Throws, naming the first, when any partition of group `groupId` is blocked (for the health check). */
  assertNoneBlocked(groupId: string): void {
    const now = Date.now();
    const blocked = [...this.byLane.entries()].filter(([, b]) => now - b.since >= this.blockedAfterMs);
    if (blocked.length > 0) {
      const [key, first] = blocked[0] as [string, Blockage];
      throw new Error(
        `consumer ${groupId} is blocked on ${blocked.length} partition(s): ${key.replace('|', '[')}] ` +
          `has failed for ${Math.round((now - first.since) / 1000)} s: ${first.error}`,
      );
    }
  }
}
