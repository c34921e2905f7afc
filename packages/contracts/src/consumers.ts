import { RAW_TOPICS, type RawTopic, Topics } from './topics';

/**
 * Which raw topics each consuming service subscribes to: the one catalogue. Every service's
 * consumer subscribes to `consumedTopics(<its name>)`, and `./dispatch dlq replay` republishes a
 * dead letter of `dlq.<service>` only to one of these topics (a dead letter naming any other topic
 * is refused). A service never consumes the raw topic it produces, except query-api, which reads
 * all four to build the read model, and webhook-service, which reads all four to notify receivers.
 */
const CONSUMED_TOPICS_BY_SERVICE = Object.freeze({
  'query-api': Object.freeze([...RAW_TOPICS]),
  'order-service': Object.freeze([Topics.inventory, Topics.payment, Topics.delivery]),
  'payment-service': Object.freeze([Topics.order, Topics.inventory, Topics.delivery]),
  'inventory-service': Object.freeze([Topics.order, Topics.payment, Topics.delivery]),
  'delivery-service': Object.freeze([Topics.order, Topics.payment]),
  'webhook-service': Object.freeze([...RAW_TOPICS]),
} satisfies Record<string, readonly RawTopic[]>);

export type ConsumingService = keyof typeof CONSUMED_TOPICS_BY_SERVICE;

/** The services that consume raw topics (each has a DLQ, `dlq.<service>`), in catalogue order. */
export const CONSUMING_SERVICES = Object.freeze(
  Object.keys(CONSUMED_TOPICS_BY_SERVICE) as ConsumingService[],
);

export function isConsumingService(name: string): name is ConsumingService {
  return Object.hasOwn(CONSUMED_TOPICS_BY_SERVICE, name);
}

/** The raw topics `service` subscribes to. */
export function consumedTopics(service: ConsumingService): readonly RawTopic[] {
  return CONSUMED_TOPICS_BY_SERVICE[service];
}
