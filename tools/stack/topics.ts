/**
 * Which topics the stack needs and what to do about the ones that exist (pure; see provision.ts).
 * Names follow docs/design.md §2: four raw.* event topics with one partition count and unlimited
 * retention (the log is the source for read-model rebuilds), and one dlq.<service> per consumer, from
 * the contracts' catalogue (compose's kafka-init and the k8s topics Job are checked against it).
 */
import { CONSUMING_SERVICES, dlqTopic, RAW_TOPICS } from '@dispatch/contracts';

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Topic-level config overrides. */
  configs: Record<string, string>;
}

export const UNLIMITED_RETENTION = { 'retention.ms': '-1' };

export function stackTopics(partitions: number): TopicSpec[] {
  return [
    ...RAW_TOPICS.map((name) => ({ name, partitions, configs: { ...UNLIMITED_RETENTION } })),
    // Dead letters keep the broker's default retention (7 days); they are replayed, not kept forever.
    ...CONSUMING_SERVICES.map((service) => ({ name: dlqTopic(service), partitions, configs: {} })),
  ];
}

export interface TopicPlan {
  create: TopicSpec[];
  /** Exist with the wanted partition count. */
  existing: TopicSpec[];
  /** Exist with another partition count: we never repartition (it would reshuffle keys). */
  mismatched: { name: string; wanted: number; actual: number }[];
}

export function planTopics(wanted: TopicSpec[], existingPartitions: Map<string, number>): TopicPlan {
  const plan: TopicPlan = { create: [], existing: [], mismatched: [] };
  for (const spec of wanted) {
    const actual = existingPartitions.get(spec.name);
    if (actual === undefined) plan.create.push(spec);
    else if (actual === spec.partitions) plan.existing.push(spec);
    else plan.mismatched.push({ name: spec.name, wanted: spec.partitions, actual });
  }
  return plan;
}

/**
 * The full set of topic-level overrides to send when some wanted config differs, or undefined
 * when nothing needs changing. kafkajs' alterConfigs replaces ALL overrides of a topic, so the
 * current overrides are carried over and only the wanted keys change.
 */
export function configsToAlter(
  currentOverrides: Record<string, string>,
  wanted: Record<string, string>,
): Record<string, string> | undefined {
  const differs = Object.entries(wanted).some(([key, value]) => currentOverrides[key] !== value);
  return differs ? { ...currentOverrides, ...wanted } : undefined;
}
