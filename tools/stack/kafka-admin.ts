import type { KafkaConnection } from '@dispatch/platform';
import { kafkajsConnection } from '@dispatch/testkit';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Admin,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import type { AclOperation, KafkaGrant, KafkaPrincipal } from './kafka-acls';

export interface AclChanges {
  created: number;
  deleted: number;
}

/**
 * Makes the broker's ACLs for our principals exactly `principals`' grants: missing ones created,
 * others of those principals deleted (a grant removed from the catalogue is revoked). ACLs of other
 * principals are left alone. Idempotent.
 */
export async function ensureKafkaAcls(
  connection: KafkaConnection,
  principals: readonly KafkaPrincipal[],
): Promise<AclChanges> {
  return withKafkaAdmin(connection, async (admin) => {
    const existing = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const ours = new Set(principals.map((principal) => `User:${principal.name}`));
    const held = new Map<string, AclEntry>();
    for (const resource of existing.resources) {
      for (const acl of resource.acls) {
        if (!ours.has(acl.principal)) continue;
        const entry: AclEntry = {
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          resourcePatternType: resource.resourcePatternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
        };
        held.set(entryKey(entry), entry);
      }
    }
    const wanted = new Map<string, AclEntry>();
    for (const principal of principals) {
      for (const grant of principal.grants) {
        const entry = toAclEntry(principal.name, grant);
        wanted.set(entryKey(entry), entry);
      }
    }
    const create = [...wanted].filter(([key]) => !held.has(key)).map(([, entry]) => entry);
    const remove = [...held].filter(([key]) => !wanted.has(key)).map(([, entry]) => entry);
    if (create.length > 0) await admin.createAcls({ acl: create });
    if (remove.length > 0) await admin.deleteAcls({ filters: remove });
    return { created: create.length, deleted: remove.length };
  });
}

/** Runs `fn` with a connected admin client of `kafka`, disconnected afterwards. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Runs `fn` with a connected kafkajs admin client of the launcher (the admin principal). */
export async function withKafkaAdmin<T>(
  connection: KafkaConnection,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const kafka = new Kafka({
    clientId: 'dispatch-stack',
    ...kafkajsConnection(connection),
    logLevel: logLevel.NOTHING,
  });
  return withAdmin(kafka, fn);
}

interface AclEntry {
  resourceType: AclResourceTypes;
  resourceName: string;
  resourcePatternType: ResourcePatternTypes;
  principal: string;
  host: string;
  operation: AclOperationTypes;
  permissionType: AclPermissionTypes;
}

const OPERATIONS: Record<AclOperation, AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  delete: AclOperationTypes.DELETE,
};

function toAclEntry(principal: string, grant: KafkaGrant): AclEntry {
  return {
    resourceType: grant.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: grant.name,
    resourcePatternType:
      grant.pattern === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    principal: `User:${principal}`,
    host: '*',
    operation: OPERATIONS[grant.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

function entryKey(entry: AclEntry): string {
  return [
    entry.principal,
    entry.resourceType,
    entry.resourcePatternType,
    entry.resourceName,
    entry.host,
    entry.operation,
    entry.permissionType,
  ].join('|');
}
