import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_KAFKA_PORT } from './config';
import { ProvisioningError } from './errors';
import { runWithSecrets } from './install';
import { KAFKA_ADMIN, KAFKA_CONTROLLER } from './kafka-acls';
import type { StackPaths } from './paths';
import { isRunning, startDetached, stopProcess } from './processes';
import { info } from './progress';
import { setProperties } from './render';

// The local broker's authentication (see kafka-auth.ts): its SASL settings, and its SCRAM users,
// created with the storage or later through Kafka's ConfigCommand.

const SCRAM_MECHANISM = 'SCRAM-SHA-512';

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

function required(passwords: ReadonlyMap<string, string>, name: string): string {
  const password = passwords.get(name);
  if (password === undefined) throw new ProvisioningError(`no Kafka password for ${name}`);
  return password;
}
