import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { LOCAL_CASSANDRA_PORT, LOCAL_KAFKA_PORT } from './config';
import { StackError } from './errors';
import { runWithSecrets } from './install';
import { kafkaLogins } from './kafka-acls';
import { ensureKafkaPasswords } from './kafka-auth';
import {
  addScramUsersToLegacyStorage,
  brokerAuthProperties,
  readScramState,
  recordScramUsers,
  scramFormatArguments,
} from './kafka-scram';
import { LOG_ROTATION, type StackPaths } from './paths';
import { absolutizeStackPaths, newKafkaClusterId, parseJvmOptions, setProperties } from './render';
import { APP_SERVICES } from './services';

const APP_SERVICE_NAMES = APP_SERVICES.map((service) => service.name);

/** The stack config's `kafka.secretsDir` for this stack folder. */
function kafkaSecretsDir(paths: StackPaths): string {
  return path.join(paths.stackDir, 'secrets', 'kafka');
}

/**
 * The two JVM servers the launcher runs from Maven Central jars. `prepare` renders the
 * committed configs from infra/local into .stack/conf/<name> (absolute paths) and does any
 * one-time initialisation; it returns the JVM arguments (everything after `java`).
 */
export interface JvmServer {
  name: 'kafka' | 'cassandra';
  title: string;
  mavenProfile: string;
  port: number;
  /** A string in the command line that identifies our process (the rendered config path). */
  marker(paths: StackPaths): string;
  prepare(paths: StackPaths, java: string): Promise<string[]>;
  /**
   * False when the config `prepare` rendered for the running process differs from what it would
   * render now: `up` restarts the server. Servers without it are never restarted for their config.
   */
  configIsCurrent?(paths: StackPaths): boolean;
  readyTimeoutMs: number;
  stopGraceMs: number;
  /** Timer slack for the server's process (startDetached's timerSlackNs). Default: the kernel's. */
  timerSlackNs?: number;
}

function readInfra(paths: StackPaths, ...parts: string[]): string {
  return readFileSync(path.join(paths.infraDir, ...parts), 'utf8');
}

function jvmOptions(paths: StackPaths, name: string): string[] {
  return parseJvmOptions(readInfra(paths, name, 'jvm.options'));
}

/**
 * Where the server's log4j2/logback config (infra/local) writes its log and how it rolls it over:
 * the same file the launcher points stdout at, and the launcher's rotation policy.
 */
export function jvmLogProperties(paths: StackPaths, name: JvmServer['name']): string[] {
  return [
    `-Ddispatch.log.file=${paths.logFile(name)}`,
    `-Ddispatch.log.maxBytes=${LOG_ROTATION.maxBytes}`,
    `-Ddispatch.log.keep=${LOG_ROTATION.keep}`,
  ];
}

/** The broker's config: infra/local's, paths made absolute, the generated logins' JAAS lines added. */
function renderKafkaProperties(paths: StackPaths): string {
  const passwords = ensureKafkaPasswords(kafkaSecretsDir(paths), kafkaLogins(APP_SERVICE_NAMES));
  return setProperties(
    absolutizeStackPaths(readInfra(paths, 'kafka', 'server.properties'), paths.stackDir),
    brokerAuthProperties(passwords),
  );
}

/** Whether the rendered config `file` is what `render` gives now (else the running server is restarted). */
function isRenderedNow(file: string, render: () => string): boolean {
  return existsSync(file) && readFileSync(file, 'utf8') === render();
}

export const kafkaServer: JvmServer = {
  name: 'kafka',
  title: 'Kafka',
  mavenProfile: 'kafka',
  port: LOCAL_KAFKA_PORT,
  marker: (paths) => path.join(paths.confDir('kafka'), 'server.properties'),
  configIsCurrent: (paths) =>
    isRenderedNow(path.join(paths.confDir('kafka'), 'server.properties'), () => renderKafkaProperties(paths)),
  readyTimeoutMs: 120_000,
  stopGraceMs: 30_000,
  async prepare(paths, java) {
    const conf = paths.confDir('kafka');
    const data = paths.dataDir('kafka');
    mkdirSync(conf, { recursive: true });
    mkdirSync(data, { recursive: true });
    const serverProperties = path.join(conf, 'server.properties');
    // Holds the admin's and the controller's passwords.
    writeFileSync(serverProperties, renderKafkaProperties(paths), { mode: 0o600 });
    chmodSync(serverProperties, 0o600);
    const log4j = path.join(conf, 'log4j2.properties');
    copyFileSync(path.join(paths.infraDir, 'kafka', 'log4j2.properties'), log4j);
    const classpath = `${paths.libDir('kafka')}/*`;
    const logging = [`-Dlog4j2.configurationFile=${log4j}`, ...jvmLogProperties(paths, 'kafka')];
    const passwords = ensureKafkaPasswords(kafkaSecretsDir(paths), kafkaLogins(APP_SERVICE_NAMES));

    if (!existsSync(path.join(data, 'meta.properties'))) {
      // KRaft needs its storage formatted once, with a cluster id, before the first start; the SCRAM
      // users are created with it (a broker cannot authenticate anyone before they exist).
      await runWithSecrets(
        java,
        [
          '-Xmx256m',
          ...logging,
          '-cp',
          classpath,
          'kafka.tools.StorageTool',
          'format',
          `--cluster-id=${newKafkaClusterId()}`,
          '--config',
          serverProperties,
          ...scramFormatArguments(passwords),
        ],
        paths.repoRoot,
        [...passwords.values()],
      );
      recordScramUsers(data, passwords);
    } else if (Object.keys(readScramState(data)).length === 0) {
      // Formatted by an earlier version, without authentication: nobody could log in.
      await addScramUsersToLegacyStorage({ paths, java, classpath, logging, passwords });
    }
    return [...jvmOptions(paths, 'kafka'), ...logging, '-cp', classpath, 'kafka.Kafka', serverProperties];
  },
};

function renderCassandraYaml(paths: StackPaths): string {
  return absolutizeStackPaths(readInfra(paths, 'cassandra', 'cassandra.yaml'), paths.stackDir);
}

export const cassandraServer: JvmServer = {
  name: 'cassandra',
  title: 'Cassandra',
  mavenProfile: 'cassandra',
  port: LOCAL_CASSANDRA_PORT,
  marker: (paths) => path.join(paths.confDir('cassandra'), 'cassandra.yaml'),
  configIsCurrent: (paths) =>
    isRenderedNow(path.join(paths.confDir('cassandra'), 'cassandra.yaml'), () => renderCassandraYaml(paths)),
  // First boot creates the system keyspaces; later boots replay the commit log.
  readyTimeoutMs: 180_000,
  stopGraceMs: 30_000,
  // After each request, Cassandra's request and read/write stage workers (SEPWorker) wait for more
  // work in 10 µs parkNanos sleeps for about 10 ms before they stop. With the kernel's 50 µs slack
  // that is ~200 wake-ups per burst of requests: at 45 requests/s it cost 0.40 of a core, with 1 ms
  // slack 0.12, for +0.4 ms of request latency (docs/benchmarks.md, "Cassandra's request workers spin").
  timerSlackNs: 1_000_000,
  async prepare(paths) {
    const conf = paths.confDir('cassandra');
    const lib = paths.libDir('cassandra');
    mkdirSync(conf, { recursive: true });
    mkdirSync(paths.dataDir('cassandra'), { recursive: true });
    const yaml = path.join(conf, 'cassandra.yaml');
    writeFileSync(yaml, renderCassandraYaml(paths));
    const logback = path.join(conf, 'logback.xml');
    copyFileSync(path.join(paths.infraDir, 'cassandra', 'logback.xml'), logback);

    // jamm measures object sizes for memtable accounting; Cassandra refuses to start without the agent.
    const jamm = readdirSync(lib).find((file) => /^jamm-.*\.jar$/.test(file));
    if (!jamm) throw new StackError(`no jamm-*.jar in ${lib}; delete the folder and run up again`);

    return [
      ...jvmOptions(paths, 'cassandra'),
      `-javaagent:${path.join(lib, jamm)}`,
      `-Dcassandra.config=file://${yaml}`,
      `-Dlogback.configurationFile=file://${logback}`,
      ...jvmLogProperties(paths, 'cassandra'),
      `-Dcassandra.logdir=${path.dirname(paths.logFile('cassandra'))}`,
      `-Dcassandra.storagedir=${paths.dataDir('cassandra')}`,
      // Without it CassandraDaemon closes stdout/stderr once started (the JVM's own output would be lost).
      '-Dcassandra-foreground=yes',
      '-cp',
      `${lib}/*`,
      'org.apache.cassandra.service.CassandraDaemon',
    ];
  },
};

export const JVM_SERVERS: JvmServer[] = [kafkaServer, cassandraServer];
