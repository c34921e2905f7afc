import {
  consumedTopics,
  dlqTopic,
  isConsumingService,
  RAW_TOPICS,
  type RawTopic,
  topicOwner,
} from '@dispatch/contracts';

/**
 * Who may do what on the event bus: one Kafka principal per service and per operator tool, each with
 * only the grants below (the broker denies everything else: `allow.everyone.if.no.acl.found=false`).
 * Pure; derived from the contracts' topic catalogue, so a new consumer or topic changes the ACLs with it.
 * The admin principal (the launcher, tests, the chaos runner) is a super user and needs no grants.
 */

/** The super user: creates topics, principals and ACLs. */
export const KAFKA_ADMIN = 'admin';
/** The broker's login to its own controller listener (SASL/PLAIN, never used by a client). */
export const KAFKA_CONTROLLER = 'controller';
/** `./dispatch dlq`: reads dead letters, republishes them to the raw topic they came from. */
export const KAFKA_DLQ_TOOL = 'dispatch-dlq';
/** `./dispatch rebuild`: reads every raw topic from the start into a new read-model generation. */
export const KAFKA_REBUILD_TOOL = 'dispatch-rebuild';

export type AclResource = 'topic' | 'group';
export type AclPattern = 'literal' | 'prefixed';
/** READ implies DESCRIBE, WRITE implies DESCRIBE (Kafka's implication rules), so neither is listed. */
export type AclOperation = 'read' | 'write' | 'delete';

export interface KafkaGrant {
  resource: AclResource;
  name: string;
  pattern: AclPattern;
  operation: AclOperation;
}

export interface KafkaPrincipal {
  name: string;
  grants: KafkaGrant[];
}

/** The raw topics a service alone produces to (its outbox relay publishes there). */
export function producedTopics(service: string): RawTopic[] {
  return RAW_TOPICS.filter((topic) => topicOwner(topic) === service);
}

/**
 * A service: write its own raw topic and its own DLQ, read the topics it consumes, use its own consumer
 * group (the service name, or one starting with it; every instance shares it). It can neither forge another service's events
 * nor read a topic it does not consume.
 */
export function servicePrincipal(service: string): KafkaPrincipal {
  const grants: KafkaGrant[] = producedTopics(service).map((topic) => literal('topic', topic, 'write'));
  if (isConsumingService(service)) {
    grants.push(literal('topic', dlqTopic(service), 'write'));
    for (const topic of consumedTopics(service)) grants.push(literal('topic', topic, 'read'));
    // Prefixed: the service's group and those its instances run in a test (`<service>-trace-…`).
    grants.push(prefixed('group', service, 'read'));
  }
  return { name: service, grants };
}

/**
 * The operator tools. Their readers use throwaway groups (`<prefix>-<uuid>`, deleted at the end), so
 * they get their prefix, with delete. Replaying a dead letter reads the original record back from the
 * raw topic it came from and republishes it there: the dlq tool can read and write every raw topic,
 * which is why it is an operator's tool and not a service.
 */
export function toolPrincipals(): KafkaPrincipal[] {
  return [
    {
      name: KAFKA_DLQ_TOOL,
      grants: [
        prefixed('topic', 'dlq.', 'read'),
        ...RAW_TOPICS.flatMap((topic) => [literal('topic', topic, 'read'), literal('topic', topic, 'write')]),
        ...['dlq-reader', 'record-reader'].flatMap((group) => [
          prefixed('group', group, 'read'),
          prefixed('group', group, 'delete'),
        ]),
      ],
    },
    {
      name: KAFKA_REBUILD_TOOL,
      grants: [
        ...RAW_TOPICS.map((topic) => literal('topic', topic, 'read')),
        prefixed('group', 'query-api-rebuild', 'read'),
        prefixed('group', 'query-api-rebuild', 'delete'),
      ],
    },
  ];
}

/** Every principal with grants: the services given, then the tools. */
export function kafkaPrincipals(services: readonly string[]): KafkaPrincipal[] {
  return [...services.map(servicePrincipal), ...toolPrincipals()];
}

/** Every login the broker knows: the admin, the controller's and each principal. */
export function kafkaLogins(services: readonly string[]): string[] {
  return [KAFKA_ADMIN, KAFKA_CONTROLLER, ...kafkaPrincipals(services).map((principal) => principal.name)];
}

function literal(resource: AclResource, name: string, operation: AclOperation): KafkaGrant {
  return { resource, name, pattern: 'literal', operation };
}

function prefixed(resource: AclResource, name: string, operation: AclOperation): KafkaGrant {
  return { resource, name, pattern: 'prefixed', operation };
}
