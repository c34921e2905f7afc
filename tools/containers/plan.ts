/**
 * What the containers test hands podman-compose: the compose files (docker-compose.yml plus the
 * override podman-compose 1.0.x needs), the stages, and the environment (image names, the six API
 * ports moved off the local stack's, a fresh password for every secret compose requires). Pure.
 */
import { APP_SERVICES } from '../stack/services';
import { publishedPorts } from './args';

export const COMPOSE_FILE = 'docker-compose.yml';
/** configs as read-only bind mounts, for podman-compose releases that ignore `configs:`. */
export const PODMAN_COMPOSE_1_0_OVERRIDE = 'infra/compose/podman-compose-1.0.yml';

/** The stages, in order; the later ones start with --no-deps (1.0.x ignores depends_on conditions). */
export const SERVERS = ['kafka', 'cassandra', 'postgres', 'redis'] as const;
export const INIT_JOBS = ['kafka-init', 'kafka-access', 'postgres-init', 'cassandra-init'] as const;
export const SERVICES: readonly string[] = APP_SERVICES.map((s) => s.name);
/** Named volumes of docker-compose.yml (removed by the teardown even when `down -v` misses one). */
export const VOLUMES = ['kafka-data', 'cassandra-data', 'postgres-data', 'prometheus-data', 'grafana-data'];

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

/** `podman-compose --version` prints "podman-composer version  1.0.3" (1.0.x) or "podman-compose version 1.2.0". */
export function parsePodmanComposeVersion(output: string): Version | undefined {
  const match = /podman-composer? version:?\s+(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** docker-compose.yml, plus the configs-as-mounts override before podman-compose 1.1. */
export function composeFiles(version: Version): string[] {
  const old = version.major < 1 || (version.major === 1 && version.minor < 1);
  return old ? [COMPOSE_FILE, PODMAN_COMPOSE_1_0_OVERRIDE] : [COMPOSE_FILE];
}

/** `-p <project> -f <file> …`, the arguments every podman-compose call starts with. */
export function composeArgs(project: string, files: string[]): string[] {
  return ['-p', project, ...files.flatMap((file) => ['-f', file])];
}

/** The variables compose refuses to start without (`${NAME:?…}`), in the order they appear. */
export function requiredVariables(composeText: string): string[] {
  const names = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

/** `QUERY_API_HOST_PORT` for query-api: compose's variable for a service's published port. */
export function hostPortVariable(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_HOST_PORT`;
}

/**
 * Everything podman-compose gets in its environment: every required secret a fresh password (made
 * by `password`), AUTH_JWKS_PATH the run's own public JWKS, the server images built here, the
 * service image tag, and the six APIs on 127.0.0.1 at portBase…portBase+5.
 */
export function composeEnv(options: {
  composeText: string;
  portBase: number;
  jwksPath: string;
  serverImages: Record<string, string>;
  tag: string;
  password: () => string;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of requiredVariables(options.composeText)) {
    env[name] = name === 'AUTH_JWKS_PATH' ? options.jwksPath : options.password();
  }
  Object.assign(env, options.serverImages);
  env.DISPATCH_VERSION = options.tag;
  env.DISPATCH_PUBLISH_ADDRESS = '127.0.0.1';
  const ports = publishedPorts(options.portBase);
  SERVICES.forEach((service, i) => {
    env[hostPortVariable(service)] = String(ports[i]);
  });
  return env;
}
