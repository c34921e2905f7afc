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
  ports?: (string | { target: number; published?: string | number })[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  configs?: (string | { source: string; target?: string })[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  read_only?: boolean;
  tmpfs?: string | string[];
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
