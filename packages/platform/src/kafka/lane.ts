import type { PlatformMetrics } from '../metrics';

/** One partition's batch being worked through, in order: inline in kafkajs' fetch loop, or as a lane. */
export interface Lane {
  topic: string;
  partition: number;
  /** Aborted on stop and on every rebalance: the lane then finishes its in-flight call and ends. */
  abort: AbortController;
  /** Handed off the fetch loop (its partition paused until it ends). */
  detached: boolean;
  finished: boolean;
}

/** Lanes and blockages are kept by partition under this key. */
export function laneKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}

/** The metrics a consumer updates. */
export type ConsumerMetrics = Pick<PlatformMetrics, 'eventsConsumed' | 'dlqMessages'> &
  Partial<
    Pick<
      PlatformMetrics,
      'consumerBlockedPartitions' | 'consumerFetchedBatchMessages' | 'consumerHandlerCallEvents'
    >
  >;

/** Counts one consumed message in kafka_events_consumed by its outcome. */
export type CountConsumed = (
  topic: string,
  eventType: string,
  outcome: 'processed' | 'retried' | 'dead_lettered' | 'skipped',
) => void;
