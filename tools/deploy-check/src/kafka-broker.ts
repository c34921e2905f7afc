import { KAFKA_ADMIN, KAFKA_CONTROLLER } from '../../stack/kafka-acls';

/**
 * Checks of a committed Kafka broker config (compose's, the dev overlay's, the local stack's): it must
 * refuse anonymous clients and leave every decision to ACLs, as infra/local/kafka/server.properties does.
 */

/** A Java properties file's `key=value` lines (comments and blank lines skipped; the last one wins). */
export function parseProperties(text: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const index = line.search(/[=:]/);
    if (index < 0) continue;
    properties[line.slice(0, index).trim()] = line.slice(index + 1).trim();
  }
  return properties;
}

/** listener.security.protocol.map as listener name → protocol. */
function listenerProtocols(properties: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    (properties['listener.security.protocol.map'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((entry) => entry.trim().split(':') as [string, string]),
  );
}

/** Every reason the broker would let an anonymous client in, or decide without ACLs; [] when none. */
export function brokerAuthProblems(properties: Record<string, string>): string[] {
  const problems: string[] = [];
  const protocols = listenerProtocols(properties);
  const controller = properties['controller.listener.names'];
  const listeners = (properties.listeners ?? '')
    .split(',')
    .filter(Boolean)
    .map((l) => l.split('://')[0]!.trim());
  if (listeners.length === 0) problems.push('no listeners');
  for (const listener of listeners) {
    // A listener missing from the map must be named after its protocol (PLAINTEXT://...).
    const protocol = protocols[listener] ?? listener;
    if (protocol !== 'SASL_PLAINTEXT' && protocol !== 'SASL_SSL') {
      problems.push(`listener ${listener} is ${protocol}, not SASL_PLAINTEXT/SASL_SSL`);
      continue;
    }
    const mechanisms = properties[`listener.name.${listener.toLowerCase()}.sasl.enabled.mechanisms`];
    const expected = listener === controller ? 'PLAIN' : 'SCRAM-SHA-512';
    if (mechanisms !== expected) problems.push(`listener ${listener} takes ${mechanisms}, not ${expected}`);
  }
  if (!controller || !listeners.includes(controller)) problems.push('no controller listener');
  if (properties['sasl.mechanism.inter.broker.protocol'] !== 'SCRAM-SHA-512')
    problems.push('the broker does not log in to itself with SCRAM-SHA-512');
  if (properties['sasl.mechanism.controller.protocol'] !== 'PLAIN')
    problems.push('the controller login is not SASL/PLAIN');
  if (properties['authorizer.class.name'] !== 'org.apache.kafka.metadata.authorizer.StandardAuthorizer')
    problems.push(`authorizer is ${properties['authorizer.class.name'] ?? 'unset'}, not StandardAuthorizer`);
  if (properties['allow.everyone.if.no.acl.found'] !== 'false')
    problems.push('allow.everyone.if.no.acl.found is not false');
  const supers = (properties['super.users'] ?? '').split(';').filter(Boolean).sort();
  const expectedSupers = [`User:${KAFKA_ADMIN}`, `User:${KAFKA_CONTROLLER}`].sort();
  if (supers.join(';') !== expectedSupers.join(';'))
    problems.push(`super.users is ${supers.join(';') || 'unset'}, not ${expectedSupers.join(';')}`);
  for (const key of Object.keys(properties)) {
    if (/jaas\.config$|password/i.test(key)) problems.push(`${key}: a credential in a committed file`);
  }
  return problems;
}

/** The settings that decide who gets in, which every deployment's broker shares with the local one. */
const SHARED_AUTH_KEYS = [
  'sasl.mechanism.inter.broker.protocol',
  'sasl.mechanism.controller.protocol',
  'authorizer.class.name',
  'allow.everyone.if.no.acl.found',
  'super.users',
  'auto.create.topics.enable',
] as const;

export function sharedAuthSettings(properties: Record<string, string>): Record<string, string | undefined> {
  return Object.fromEntries(SHARED_AUTH_KEYS.map((key) => [key, properties[key]]));
}
