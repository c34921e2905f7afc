import { RAW_TOPICS } from '@dispatch/contracts';
import {
  KAFKA_ADMIN,
  KAFKA_CONTROLLER,
  KAFKA_DLQ_TOOL,
  KAFKA_REBUILD_TOOL,
  kafkaLogins,
  kafkaPrincipals,
  servicePrincipal,
} from './kafka-acls';

const grants = (name: string) =>
  servicePrincipal(name).grants.map((g) => `${g.operation} ${g.resource} ${g.pattern} ${g.name}`);

describe('Kafka principals and their grants', () => {
  it('a service writes only its own raw topic and DLQ, reads what it consumes, uses its own group', () => {
    expect(grants('inventory-service').sort()).toEqual(
      [
        'write topic literal raw.inventory-events',
        'write topic literal dlq.inventory-service',
        'read topic literal raw.order-events',
        'read topic literal raw.payment-events',
        'read topic literal raw.delivery-events',
        'read group prefixed inventory-service',
      ].sort(),
    );
  });

  it('no service may write another service’s raw topic', () => {
    const services = ['order-service', 'inventory-service', 'payment-service', 'delivery-service'];
    for (const service of services) {
      const written = servicePrincipal(service)
        .grants.filter((g) => g.operation === 'write' && g.name.startsWith('raw.'))
        .map((g) => g.name);
      expect(written).toEqual([`raw.${service.replace('-service', '')}-events`]);
    }
  });

  it('query-api and webhook-service read every raw topic and write none of them', () => {
    for (const service of ['query-api', 'webhook-service']) {
      const principal = servicePrincipal(service);
      expect(
        principal.grants.filter((g) => g.operation === 'read' && g.resource === 'topic').map((g) => g.name),
      ).toEqual(RAW_TOPICS);
      expect(principal.grants.filter((g) => g.operation === 'write').map((g) => g.name)).toEqual([
        `dlq.${service}`,
      ]);
    }
  });

  it('a service that consumes nothing gets no group and no DLQ', () => {
    expect(servicePrincipal('some-producer-only-service').grants).toEqual([]);
  });

  it('the tools get their reader-group prefixes with delete, and only their topics', () => {
    const [dlq, rebuild] = kafkaPrincipals([]);
    expect(dlq?.name).toBe(KAFKA_DLQ_TOOL);
    expect(dlq?.grants).toContainEqual({
      resource: 'topic',
      name: 'dlq.',
      pattern: 'prefixed',
      operation: 'read',
    });
    expect(dlq?.grants).toContainEqual({
      resource: 'group',
      name: 'record-reader',
      pattern: 'prefixed',
      operation: 'delete',
    });
    expect(rebuild?.name).toBe(KAFKA_REBUILD_TOOL);
    expect(rebuild?.grants.filter((g) => g.operation === 'write')).toEqual([]);
  });

  it('every login: the admin, the controller, the services, the tools', () => {
    expect(kafkaLogins(['order-service'])).toEqual([
      KAFKA_ADMIN,
      KAFKA_CONTROLLER,
      'order-service',
      KAFKA_DLQ_TOOL,
      KAFKA_REBUILD_TOOL,
    ]);
  });
});
