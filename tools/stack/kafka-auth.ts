import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { LOCAL_KAFKA_PORT, type StackConfig } from './config';
import { ProvisioningError, StackError } from './errors';
import { runCommand } from './install';
import {
  type AclOperation,
  KAFKA_ADMIN,
  KAFKA_CONTROLLER,
  type KafkaGrant,
  type KafkaPrincipal,
} from './kafka-acls';
import type { StackPaths } from './paths';
import { isRunning, startDetached, stopProcess } from './processes';
import { info } from './progress';
import { setProperties } from './render';
import { ensureGeneratedPassword, readGeneratedPassword } from './secrets';

/**
 * SASL on the local broker, exactly as in a cluster: clients log in with SCRAM-SHA-512 (one principal
 * per service and tool, see kafka-acls.ts), the broker itself as the admin; its controller listener
 * takes only the broker's own SASL/PLAIN login. Passwords are generated once into
 * .stack/secrets/kafka/<principal>.password (0600) and rendered into the broker's config
 * (.stack/conf/kafka/server.properties, 0600). SCRAM users live in the cluster's metadata: a fresh
 * storage gets them all when it is formatted; later additions and password changes go through
 * Kafka's own ConfigCommand as the admin. What the broker holds is remembered (as hashes) in
 * .stack/data/kafka/dispatch-scram-users.json, so `up` only calls it when something changed.
 */

export const SCRAM_MECHANISM = 'SCRAM-SHA-512';

/** `secretsDir` is the stack config's `kafka.secretsDir`: .stack/secrets/kafka. */
export function kafkaPasswordFile(secretsDir: string, principal: string): string {
  return path.join(secretsDir, `${principal}.password`);
}

/** Every login's password, generated where missing. */
export function ensureKafkaPasswords(secretsDir: string, logins: readonly string[]): Map<string, string> {
  return new Map(
    logins.map((name) => [name, ensureGeneratedPassword(kafkaPasswordFile(secretsDir, name)).password]),
  );
}

/** One principal's password; says to run `up` when it is missing. */
export function readKafkaPassword(secretsDir: string, principal: string): string {
  return readGeneratedPassword(kafkaPasswordFile(secretsDir, principal));
}

/**
 * The broker settings that turn authentication and authorization on, rendered over
 * infra/local/kafka/server.properties (which names the listeners CLIENT and CONTROLLER).
 */
export function brokerAuthProperties(passwords: ReadonlyMap<string, string>): Record<string, string> {
  const admin = required(passwords, KAFKA_ADMIN);
  const controller = required(passwords, KAFKA_CONTROLLER);
  return {
    'listener.name.client.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_ADMIN}" password="${admin}";`,
    'listener.name.controller.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${KAFKA_CONTROLLER}" password="${controller}" user_${KAFKA_CONTROLLER}="${controller}";`,
  };
}

/** `kafka-storage format` arguments that create every SCRAM user with the storage. */
export function scramFormatArguments(passwords: ReadonlyMap<string, string>): string[] {
  return scramUsers(passwords).flatMap(([name, password]) => [
    '--add-scram',
    `${SCRAM_MECHANISM}=[name=${name},password=${password}]`,
  ]);
}

/** The SCRAM users: every login but the controller's (which is SASL/PLAIN, in the broker's config). */
function scramUsers(passwords: ReadonlyMap<string, string>): [string, string][] {
  return [...passwords].filter(([name]) => name !== KAFKA_CONTROLLER);
}

export function scramStateFile(dataDir: string): string {
  return path.join(dataDir, 'dispatch-scram-users.json');
}

function fingerprint(name: string, password: string): string {
  return createHash('sha256').update(`${name}\0${password}`).digest('hex');
}

/** What the storage holds: principal → fingerprint of its password. Empty when never recorded. */
export function readScramState(dataDir: string): Record<string, string> {
  const file = scramStateFile(dataDir);
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
}

export function recordScramUsers(dataDir: string, passwords: ReadonlyMap<string, string>): void {
  const state = readScramState(dataDir);
  for (const [name, password] of scramUsers(passwords)) state[name] = fingerprint(name, password);
  writeFileSync(scramStateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** The SCRAM users the storage does not hold yet, or holds with another password. Pure. */
export function staleScramUsers(
  state: Readonly<Record<string, string>>,
  passwords: ReadonlyMap<string, string>,
): string[] {
  return scramUsers(passwords)
    .filter(([name, password]) => state[name] !== fingerprint(name, password))
    .map(([name]) => name);
}

/**
 * Creates or updates the SCRAM users the storage lacks, as the admin, with Kafka's ConfigCommand (the
 * Node client has no API for SCRAM credentials). One JVM per user, so only for what changed.
 */
export async function ensureScramUsers(opts: {
  java: string;
  classpath: string;
  dataDir: string;
  confDir: string;
  bootstrap: string;
  passwords: ReadonlyMap<string, string>;
  cwd: string;
}): Promise<string[]> {
  const stale = staleScramUsers(readScramState(opts.dataDir), opts.passwords);
  if (stale.length === 0) return [];
  const adminConfig = path.join(opts.confDir, 'admin-client.properties');
  writeFileSync(adminConfig, adminClientProperties(required(opts.passwords, KAFKA_ADMIN)), { mode: 0o600 });
  for (const name of stale) {
    const password = required(opts.passwords, name);
    await alterScramUser({ ...opts, name, password, commandConfig: adminConfig });
    recordScramUsers(opts.dataDir, new Map([[name, required(opts.passwords, name)]]));
  }
  return stale;
}

/** runCommand, with the passwords in its arguments and output masked in the error it throws. */
export async function runWithSecrets(
  command: string,
  args: string[],
  cwd: string,
  secrets: string[],
): Promise<string> {
  try {
    return await runCommand(command, args, cwd);
  } catch (err) {
    let message = (err as Error).message;
    for (const secret of secrets) message = message.replaceAll(secret, '***');
    throw new StackError(message);
  }
}

/**
 * A storage formatted by an earlier version of the launcher has no SCRAM users, so the broker,
 * configured for SASL, would let nobody in. Once, the broker is started on loopback without
 * authentication (listeners plaintext, no authorizer), the users are added as on a running cluster,
 * and it is stopped again; `prepare` then starts it for real. The topics and their data stay.
 */
export async function addScramUsersToLegacyStorage(opts: {
  paths: StackPaths;
  java: string;
  classpath: string;
  logging: string[];
  passwords: ReadonlyMap<string, string>;
}): Promise<void> {
  const { paths } = opts;
  const conf = paths.confDir('kafka');
  const bootstrapProperties = path.join(conf, 'server-upgrade.properties');
  const rendered = readFileSync(path.join(conf, 'server.properties'), 'utf8');
  writeFileSync(
    bootstrapProperties,
    setProperties(rendered, {
      'listener.security.protocol.map': 'CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'authorizer.class.name': '',
    }),
    { mode: 0o600 },
  );
  info('Kafka: its storage predates authentication; adding the SCRAM users once (about 30 s)');
  const pidFile = path.join(conf, 'upgrade.pid');
  const pid = startDetached({
    command: opts.java,
    args: ['-Xmx512m', ...opts.logging, '-cp', opts.classpath, 'kafka.Kafka', bootstrapProperties],
    cwd: paths.repoRoot,
    logFile: paths.logFile('kafka'),
    pidFile,
  });
  try {
    const deadline = Date.now() + 120_000;
    for (const [name, password] of scramUsers(opts.passwords)) {
      for (;;) {
        try {
          await alterScramUser({
            java: opts.java,
            classpath: opts.classpath,
            bootstrap: `127.0.0.1:${LOCAL_KAFKA_PORT}`,
            cwd: paths.repoRoot,
            name,
            password,
          });
          break;
        } catch (err) {
          if (Date.now() > deadline || !isRunning(pid, bootstrapProperties)) throw err;
          await sleep(1_000);
        }
      }
    }
    recordScramUsers(paths.dataDir('kafka'), opts.passwords);
  } finally {
    await stopProcess(pid, bootstrapProperties, 30_000);
    rmSync(pidFile, { force: true });
    rmSync(bootstrapProperties, { force: true });
  }
}

/** Sets one SCRAM user's password with Kafka's ConfigCommand (as admin when `commandConfig` is given). */
async function alterScramUser(opts: {
  java: string;
  classpath: string;
  bootstrap: string;
  cwd: string;
  name: string;
  password: string;
  commandConfig?: string;
}): Promise<void> {
  await runWithSecrets(
    opts.java,
    [
      '-Xmx128m',
      '-cp',
      opts.classpath,
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      opts.bootstrap,
      ...(opts.commandConfig ? ['--command-config', opts.commandConfig] : []),
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      opts.name,
      '--add-config',
      `${SCRAM_MECHANISM}=[password=${opts.password}]`,
    ],
    opts.cwd,
    [opts.password],
  );
}

/** A Java client's settings for logging in as the admin (ConfigCommand's --command-config). */
export function adminClientProperties(adminPassword: string): string {
  return [
    'security.protocol=SASL_PLAINTEXT',
    `sasl.mechanism=${SCRAM_MECHANISM}`,
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_ADMIN}" password="${adminPassword}";`,
    '',
  ].join('\n');
}

/**
 * How the launcher reaches Kafka: KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD when set (an external
 * cluster), else the local admin once its password exists, else anonymously.
 */
export function launcherKafka(
  kafka: StackConfig['kafka'],
  env: NodeJS.ProcessEnv = process.env,
): KafkaConnection {
  if (env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD) {
    return {
      brokers: kafka.brokers,
      sasl: {
        mechanism: 'scram-sha-512',
        username: env.KAFKA_SASL_USERNAME,
        password: env.KAFKA_SASL_PASSWORD,
      },
    };
  }
  const file = kafkaPasswordFile(kafka.secretsDir, KAFKA_ADMIN);
  if (!kafka.local || !existsSync(file)) return { brokers: kafka.brokers };
  return {
    brokers: kafka.brokers,
    sasl: { mechanism: 'scram-sha-512', username: KAFKA_ADMIN, password: readGeneratedPassword(file) },
  };
}

/**
 * The KAFKA_SASL_* variables a local service (or tool) runs with: its own principal. None for an
 * external Kafka: there the service's login comes from the environment (a Secret in a cluster).
 */
export function principalEnv(kafka: StackConfig['kafka'], principal: string): Record<string, string> {
  // Before the first `up` there is no password yet (up generates them before it starts a service).
  if (!kafka.local || !existsSync(kafkaPasswordFile(kafka.secretsDir, principal))) return {};
  return {
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD: readKafkaPassword(kafka.secretsDir, principal),
  };
}

/** True when a running process logs in to Kafka with another password than its principal's file holds. */
export function hasStaleKafkaLogin(pid: number, kafka: StackConfig['kafka'], principal: string): boolean {
  if (!kafka.local) return false;
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return false;
  }
  const file = kafkaPasswordFile(kafka.secretsDir, principal);
  if (!existsSync(file)) return false;
  const started = raw.split('\0').find((entry) => entry.startsWith('KAFKA_SASL_PASSWORD='));
  return started !== `KAFKA_SASL_PASSWORD=${readGeneratedPassword(file)}`;
}

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

/** Runs `fn` with a connected kafkajs admin client of the launcher (the admin principal). */
export async function withKafkaAdmin<T>(
  connection: KafkaConnection,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Kafka({
    clientId: 'dispatch-stack',
    ...kafkajsConnection(connection),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
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

function required(passwords: ReadonlyMap<string, string>, name: string): string {
  const password = passwords.get(name);
  if (password === undefined) throw new ProvisioningError(`no Kafka password for ${name}`);
  return password;
}
