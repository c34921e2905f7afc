/**
 * The four server images docker-compose.yml needs (Kafka, Cassandra, PostgreSQL, Redis), built on a
 * machine without a container registry: FROM the debootstrap base of `./dispatch images`, plus
 * Debian's packages (openjdk-17-jre-headless, postgresql-15, redis-server, python3-cassandra) and the
 * local stack's jars (.stack/lib/kafka, .stack/lib/cassandra, infra/local/pom.xml; the Kafka CLI tools
 * from tools/images/servers/pom.xml). The Containerfiles and scripts are in tools/images/servers/.
 * compose takes them through KAFKA_IMAGE, CASSANDRA_IMAGE, POSTGRES_IMAGE and REDIS_IMAGE.
 */
import { copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { installJars, jarsAreCurrent } from '../stack/install';
import { REPO_ROOT, stackPaths } from '../stack/paths';
import { ImagesError, LOG_DIR, log, relative, run, WORK_DIR } from './host';
import type { BuiltImage } from './report';
import { formatSeconds } from './report';

/** The servers `--only` can name; the JRE image comes with Kafka and Cassandra. */
export const SERVER_NAMES = ['kafka', 'cassandra', 'postgres', 'redis'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

const SOURCES = path.join(REPO_ROOT, 'tools', 'images', 'servers');
const SERVERS_WORK = path.join(WORK_DIR, 'servers');

export interface ServerImageSpec {
  /** `jre` or a server name. */
  key: 'jre' | ServerName;
  image: string;
  containerfile: string;
  /** The build argument naming the image it starts FROM. */
  from: { arg: 'BASE' | 'JRE'; image: string };
}

/** The versions infra/local/pom.xml pins for the local stack's jars. Pure. */
export function pomVersions(pomText: string): { kafka: string; cassandra: string } {
  const version = (property: string) => {
    const found = new RegExp(`<${property}>([^<]+)</${property}>`).exec(pomText)?.[1]?.trim();
    if (!found) throw new ImagesError(`infra/local/pom.xml has no <${property}>`);
    return found;
  };
  return { kafka: version('kafka.version'), cassandra: version('cassandra.version') };
}

/** Every server image, in build order (the JRE first: Kafka and Cassandra start FROM it). Pure. */
export function serverImageSpecs(
  versions: { kafka: string; cassandra: string },
  baseImage: string,
): ServerImageSpec[] {
  const jre = 'localhost/dispatch/jre:17-bookworm';
  return [
    { key: 'jre', image: jre, containerfile: 'jre.Containerfile', from: { arg: 'BASE', image: baseImage } },
    {
      key: 'kafka',
      image: `localhost/dispatch/kafka:${versions.kafka}`,
      containerfile: 'kafka.Containerfile',
      from: { arg: 'JRE', image: jre },
    },
    {
      key: 'cassandra',
      image: `localhost/dispatch/cassandra:${versions.cassandra}`,
      containerfile: 'cassandra.Containerfile',
      from: { arg: 'JRE', image: jre },
    },
    {
      key: 'postgres',
      image: 'localhost/dispatch/postgres:15',
      containerfile: 'postgres.Containerfile',
      from: { arg: 'BASE', image: baseImage },
    },
    {
      key: 'redis',
      image: 'localhost/dispatch/redis:7',
      containerfile: 'redis.Containerfile',
      from: { arg: 'BASE', image: baseImage },
    },
  ];
}

/** compose's KAFKA_IMAGE, CASSANDRA_IMAGE, POSTGRES_IMAGE and REDIS_IMAGE for these images. Pure. */
export function serverImageEnv(specs: ServerImageSpec[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) if (spec.key !== 'jre') env[`${spec.key.toUpperCase()}_IMAGE`] = spec.image;
  return env;
}

export function localServerImages(baseImage: string): ServerImageSpec[] {
  return serverImageSpecs(
    pomVersions(readFileSync(path.join(REPO_ROOT, 'infra', 'local', 'pom.xml'), 'utf8')),
    baseImage,
  );
}

/** A fresh build context under .stack/images/servers/<name>: hard links (or copies) of its files. */
function context(name: string, files: [from: string, to: string][]): string {
  const dir = path.join(SERVERS_WORK, name);
  rmSync(dir, { recursive: true, force: true });
  for (const [from, to] of files) {
    const target = path.join(dir, to);
    mkdirSync(path.dirname(target), { recursive: true });
    try {
      linkSync(from, target);
    } catch {
      copyFileSync(from, target);
    }
  }
  return dir;
}

/** The local stack's jars of a server (fetched with mvn, as `./dispatch up` does, when missing). */
async function stackJars(name: 'kafka' | 'cassandra'): Promise<string[]> {
  const paths = stackPaths();
  if (!jarsAreCurrent(paths, name, name)) {
    log(`fetching the ${name} jars with mvn (infra/local/pom.xml, as ./dispatch up does)`);
    await installJars(paths, name, name);
  }
  const dir = paths.libDir(name);
  const jars = readdirSync(dir).filter((file) => file.endsWith('.jar'));
  if (jars.length === 0) throw new ImagesError(`no jars in ${relative(dir)}`);
  return jars.map((jar) => path.join(dir, jar));
}

async function contextFor(spec: ServerImageSpec): Promise<string> {
  const own = (...files: string[]) => files.map((f): [string, string] => [path.join(SOURCES, f), f]);
  switch (spec.key) {
    case 'kafka': {
      const dir = context('kafka', [
        ...(await stackJars('kafka')).map((jar): [string, string] => [jar, `libs/${path.basename(jar)}`]),
        ...own('kafka-cli.sh', 'log4j2.properties', 'tools-log4j2.properties'),
      ]);
      // The CLI tools (kafka-topics, kafka-acls, …), not part of the broker's classpath.
      run(
        'mvn',
        [
          '-B',
          '-q',
          '-Dstyle.color=never',
          '-f',
          path.join(SOURCES, 'pom.xml'),
          'dependency:copy-dependencies',
          '-DexcludeTransitive=true',
          `-DoutputDirectory=${path.join(dir, 'libs')}`,
        ],
        {
          what: 'the Kafka CLI tools (mvn -f tools/images/servers/pom.xml)',
          logFile: path.join(LOG_DIR, 'mvn-kafka-tools.log'),
        },
      );
      return dir;
    }
    case 'cassandra': {
      const local = path.join(REPO_ROOT, 'infra', 'local', 'cassandra');
      return context('cassandra', [
        ...(await stackJars('cassandra')).map((jar): [string, string] => [jar, `lib/${path.basename(jar)}`]),
        [path.join(local, 'cassandra.yaml'), 'cassandra.yaml'],
        [path.join(local, 'jvm.options'), 'jvm.options'],
        ...own('logback.xml', 'nodetool-logback.xml', 'cassandra-entrypoint.sh', 'nodetool', 'cqlsh.py'),
      ]);
    }
    default:
      return SOURCES;
  }
}

/**
 * Builds the server images `wanted` names (and the JRE when Kafka or Cassandra needs it) that are
 * missing, or all of them with `rebuild`; serially (the machine is shared). Returns every wanted
 * image, built or reused, for the size report.
 */
export async function buildServerImages(options: {
  wanted: readonly ServerName[];
  rebuild: boolean;
  baseImage: string;
  exists: (image: string) => boolean;
  size: (image: string) => number;
}): Promise<BuiltImage[]> {
  const specs = localServerImages(options.baseImage);
  const needsJre = options.wanted.some((name) => name === 'kafka' || name === 'cassandra');
  const chosen = specs.filter((spec) =>
    spec.key === 'jre' ? needsJre : options.wanted.includes(spec.key as ServerName),
  );
  const images: BuiltImage[] = [];
  for (const spec of chosen) {
    if (!options.rebuild && options.exists(spec.image)) {
      log(`server image ${spec.image} exists: reused (--rebuild-servers builds it again)`);
      images.push({ name: spec.image, bytes: options.size(spec.image) });
      continue;
    }
    const started = performance.now();
    const logFile = path.join(LOG_DIR, `build-${spec.key}.log`);
    log(`building ${spec.image} (log: ${relative(logFile)})`);
    const dir = await contextFor(spec);
    run(
      'podman',
      [
        'build',
        '--format',
        'docker',
        '--pull=never',
        // apt-get in the RUN steps reaches Debian's mirror.
        '--network',
        'host',
        '--build-arg',
        `${spec.from.arg}=${spec.from.image}`,
        '--tag',
        spec.image,
        '--file',
        path.join(SOURCES, spec.containerfile),
        dir,
      ],
      { what: `the build of ${spec.image}`, logFile },
    );
    const seconds = (performance.now() - started) / 1000;
    log(`  built ${spec.image} in ${formatSeconds(seconds)}`);
    images.push({ name: spec.image, bytes: options.size(spec.image), seconds });
  }
  return images;
}
