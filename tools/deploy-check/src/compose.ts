import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createAjv, type JsonSchema, runValidator } from './json-schema';
import { COMPOSE_FILE, SCHEMAS_DIR } from './paths';

/** A variable the compose file requires (`${VAR:?message}`) is unset or empty. */
export class InterpolationError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `compose interpolation failed:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
    );
    this.name = 'InterpolationError';
  }
}

// $$ | ${NAME} | ${NAME:-default} ${NAME-default} ${NAME:?err} ${NAME?err} ${NAME:+alt} ${NAME+alt} | $NAME
const VARIABLE =
  /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Substitutes variables in one string the way Docker Compose does (Compose Specification,
 * "Interpolation"): `$$` is a literal `$`, `:-`/`-` give defaults for unset-or-empty/unset,
 * `:?`/`?` make a variable required, `:+`/`+` substitute when set. Nested `${...}` in defaults
 * are resolved too. Collects every missing required variable instead of stopping at the first.
 */
export function interpolate(
  text: string,
  env: Record<string, string | undefined>,
  problems: { variable: string; message: string }[] = [],
): string {
  return text.replace(
    VARIABLE,
    (match, braced?: string, operator?: string, argument?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = braced ?? bare!;
      const value = env[name];
      if (!operator) return value ?? '';
      const unsetOrEmpty = value === undefined || (operator.startsWith(':') && value === '');
      const arg = interpolate(argument ?? '', env, problems);
      switch (operator.replace(':', '')) {
        case '-':
          return unsetOrEmpty ? arg : value!;
        case '?':
          if (unsetOrEmpty) problems.push({ variable: name, message: arg || 'required variable is not set' });
          return value ?? '';
        default: // '+'
          return unsetOrEmpty ? '' : arg;
      }
    },
  );
}

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };

/** Interpolates every string value (not the keys, as Compose does). */
function interpolateValues(
  value: Yaml,
  env: Record<string, string | undefined>,
  problems: { variable: string; message: string }[],
): Yaml {
  if (typeof value === 'string') return interpolate(value, env, problems);
  if (Array.isArray(value)) return value.map((item) => interpolateValues(item, env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateValues(v, env, problems)]),
    );
  }
  return value;
}

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> } | string;
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  configs?: (string | { source: string; target?: string })[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  read_only?: boolean;
  tmpfs?: string | string[];
  stop_grace_period?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  configs?: Record<string, { content?: string; file?: string }>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

export function readComposeText(file: string = COMPOSE_FILE): string {
  return readFileSync(file, 'utf8');
}

/** Parses and interpolates a compose file; throws InterpolationError naming every missing variable. */
export function loadCompose(text: string, env: Record<string, string | undefined>): ComposeFile {
  const problems: { variable: string; message: string }[] = [];
  const model = interpolateValues(parse(text) as Yaml, env, problems);
  if (problems.length > 0) {
    const unique = problems.filter((p, i) => problems.findIndex((q) => q.variable === p.variable) === i);
    throw new InterpolationError(unique);
  }
  return model as unknown as ComposeFile;
}

/** Problems against the Compose Specification JSON schema (vendored), one line each. */
export function composeSchemaProblems(model: unknown): string[] {
  const schema = JSON.parse(readFileSync(`${SCHEMAS_DIR}/compose-spec.json`, 'utf8')) as JsonSchema;
  delete schema.$schema;
  return runValidator(createAjv().compile(schema), model);
}

/** A service's environment as name → string (both the map and the list form). */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(service.environment)) {
    for (const entry of service.environment) {
      const index = entry.indexOf('=');
      if (index > 0) env[entry.slice(0, index)] = entry.slice(index + 1);
    }
  } else {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (value !== null) env[key] = String(value);
    }
  }
  return env;
}

/** Container ports a service publishes ("8081:8081" → 8081). */
export function publishedContainerPorts(service: ComposeService): number[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return port.target;
    const parts = port.split('/')[0]!.split(':');
    return Number(parts[parts.length - 1]);
  });
}

/** One published port: the host address it binds ('' = every interface), the host port, the container's. */
export interface PublishedPort {
  hostIp: string;
  published: string;
  target: number;
  /** As written (short syntax) or `host_ip:published:target` (long syntax). */
  spec: string;
}

/**
 * A service's published ports in either syntax: "8080" (a random host port on every interface),
 * "8080:8080" (every interface), "127.0.0.1:8080:8080", "[::1]:8080:8080", each maybe with "/tcp";
 * or `{ target, published, host_ip }`.
 */
export function publishedPorts(service: ComposeService): PublishedPort[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      const hostIp = port.host_ip ?? '';
      const published = port.published === undefined ? '' : String(port.published);
      return { hostIp, published, target: port.target, spec: `${hostIp}:${published}:${port.target}` };
    }
    const withoutProtocol = port.split('/')[0]!;
    let hostIp = '';
    let rest = withoutProtocol;
    const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(withoutProtocol);
    if (ipv6) {
      hostIp = ipv6[1]!;
      rest = ipv6[2]!;
    }
    const parts = rest.split(':');
    if (!ipv6 && parts.length === 3) hostIp = parts.shift()!;
    const target = Number(parts[parts.length - 1]);
    const published = parts.length > 1 ? parts[0]! : '';
    return { hostIp, published, target, spec: port };
  });
}

/** 127.0.0.0/8, ::1 or localhost: reachable from this machine only. */
export function isLoopback(address: string): boolean {
  return /^127(\.\d{1,3}){3}$/.test(address) || address === '::1' || address === 'localhost';
}

/** Every published port binds a loopback address; one on every interface (no address, 0.0.0.0, ::) is a problem. */
export function publishProblems(compose: Pick<ComposeFile, 'services'>): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const port of publishedPorts(service)) {
      if (isLoopback(port.hostIp)) continue;
      const where =
        port.hostIp === '' || port.hostIp === '0.0.0.0' || port.hostIp === '::'
          ? 'every interface'
          : port.hostIp;
      problems.push(`${name}: "${port.spec}" is published on ${where}, not on loopback (127.0.0.1)`);
    }
  }
  return problems;
}

const DURATION_UNITS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Compose duration ("30s", "1m30s", "500ms", "1h") in seconds; NaN when it is not one. */
export function durationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return Number.NaN;
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

/**
 * Every service sets stop_grace_period, and longer than what it needs to stop cleanly (`drainSeconds`:
 * the services' SHUTDOWN_TIMEOUT_MS, the servers' own shutdown). Compose's default is 10 s, then SIGKILL.
 */
export function stopGraceProblems(
  compose: Pick<ComposeFile, 'services'>,
  drainSeconds: Record<string, number>,
): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const drain = drainSeconds[name];
    const grace = service.stop_grace_period;
    if (drain === undefined) problems.push(`${name}: no known drain time (add it to the check)`);
    if (typeof grace !== 'string') {
      problems.push(`${name}: no stop_grace_period (compose's default 10 s, then SIGKILL)`);
      continue;
    }
    const seconds = durationSeconds(grace);
    if (Number.isNaN(seconds)) problems.push(`${name}: stop_grace_period "${grace}" is not a duration`);
    else if (drain !== undefined && seconds <= drain) {
      problems.push(`${name}: stop_grace_period ${grace} is not longer than its drain (${drain} s)`);
    }
  }
  return problems;
}

/** Host paths a service bind-mounts (`./dashboards/alerts.yml:/etc/...:ro` → `./dashboards/alerts.yml`). */
export function bindMountSources(service: ComposeService): string[] {
  const sources: string[] = [];
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'object') {
      if (volume.type === 'bind' && volume.source) sources.push(volume.source);
      continue;
    }
    const source = volume.split(':')[0]!;
    if (source.startsWith('.') || source.startsWith('/')) sources.push(source);
  }
  return sources;
}

export function dependsOn(service: ComposeService): Record<string, string> {
  if (Array.isArray(service.depends_on)) {
    return Object.fromEntries(service.depends_on.map((name) => [name, 'service_started']));
  }
  return Object.fromEntries(
    Object.entries(service.depends_on ?? {}).map(([name, dep]) => [name, dep.condition ?? 'service_started']),
  );
}
