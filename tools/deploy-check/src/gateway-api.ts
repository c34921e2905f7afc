import type { KubeObject } from './kubernetes-schemas';

/**
 * Gateway API HTTPRoute (gateway.networking.k8s.io/v1) checks. The vendored schema set has no Gateway
 * API CRDs, so the shape is checked structurally here: the fields of the v1 standard channel this
 * repository may use (an unknown or misspelt field is a problem, as with the strict schemas), their
 * types and enums; then what the route refers to: every backendRef a Service of the rendered manifests
 * on one of its ports, and no public route to /metrics or /health.
 */

export const HTTP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface PathMatch {
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value?: string;
}

export interface RouteMatch {
  path?: PathMatch;
  method?: string;
  headers?: unknown[];
  queryParams?: unknown[];
}

export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface ParentRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  sectionName?: string;
  port?: number;
}

export interface RouteRule {
  name?: string;
  matches?: RouteMatch[];
  backendRefs?: BackendRef[];
  filters?: unknown[];
  timeouts?: { request?: string; backendRequest?: string };
}

export interface HTTPRouteSpec {
  parentRefs?: ParentRef[];
  hostnames?: string[];
  rules?: RouteRule[];
}

/** The paths nobody outside the cluster may reach (Prometheus scrapes, the kubelet probes). */
export const PRIVATE_PATHS = ['/metrics', '/health', '/health/live', '/health/ready'];

// Field sets of the v1 API (standard channel, v1.2+); nothing else is accepted.
const SPEC_FIELDS = ['parentRefs', 'hostnames', 'rules'];
const PARENT_FIELDS = ['group', 'kind', 'namespace', 'name', 'sectionName', 'port'];
const RULE_FIELDS = ['name', 'matches', 'filters', 'backendRefs', 'timeouts', 'retry', 'sessionPersistence'];
const MATCH_FIELDS = ['path', 'headers', 'queryParams', 'method'];
const PATH_FIELDS = ['type', 'value'];
const BACKEND_FIELDS = ['group', 'kind', 'name', 'namespace', 'port', 'weight', 'filters'];
const TIMEOUT_FIELDS = ['request', 'backendRequest'];
const PATH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
/** Gateway API's Duration (GEP-2257). */
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
/** Hostname: RFC 1123, optionally a leading wildcard label; no IP, no port. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function unknownFields(value: Record<string, unknown>, allowed: string[], at: string): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${at}: unknown field "${key}"`);
}

function listAt(
  value: unknown,
  at: string,
  problems: string[],
  opts: { max: number; min?: number },
): unknown[] {
  if (value === undefined) {
    if (opts.min) problems.push(`${at}: required`);
    return [];
  }
  if (!Array.isArray(value)) {
    problems.push(`${at}: must be a list`);
    return [];
  }
  if (value.length > opts.max) problems.push(`${at}: at most ${opts.max} entries`);
  if (opts.min && value.length < opts.min) problems.push(`${at}: at least ${opts.min} entry`);
  return value;
}

function portProblems(port: unknown, at: string): string[] {
  if (port === undefined) return [];
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535
    ? []
    : [`${at}: must be a port number 1-65535`];
}

function parentRefProblems(ref: unknown, at: string): string[] {
  if (!isObject(ref)) return [`${at}: must be an object`];
  const problems = unknownFields(ref, PARENT_FIELDS, at);
  if (typeof ref.name !== 'string' || !NAME.test(ref.name))
    problems.push(`${at}/name: required, a DNS label`);
  if (ref.namespace !== undefined && (typeof ref.namespace !== 'string' || !NAME.test(ref.namespace)))
    problems.push(`${at}/namespace: a DNS label`);
  if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway')
    problems.push(`${at}: must refer to a ${GATEWAY_GROUP} Gateway`);
  problems.push(...portProblems(ref.port, `${at}/port`));
  return problems;
}

function matchProblems(match: unknown, at: string): string[] {
  if (!isObject(match)) return [`${at}: must be an object`];
  const problems = unknownFields(match, MATCH_FIELDS, at);
  if (match.method !== undefined && !METHODS.includes(match.method as string))
    problems.push(`${at}/method: one of ${METHODS.join(', ')}`);
  if (match.path !== undefined) {
    if (!isObject(match.path)) return [...problems, `${at}/path: must be an object`];
    problems.push(...unknownFields(match.path, PATH_FIELDS, `${at}/path`));
    const type = match.path.type ?? 'PathPrefix';
    if (!PATH_TYPES.includes(type as string))
      problems.push(`${at}/path/type: one of ${PATH_TYPES.join(', ')}`);
    const value = match.path.value ?? '/';
    if (typeof value !== 'string' || !value.startsWith('/'))
      problems.push(`${at}/path/value: must start with /`);
    else if (type !== 'RegularExpression' && (value.includes('//') || /\/\.\.?(\/|$)/.test(value)))
      problems.push(`${at}/path/value: no "//", "/./" or "/../"`);
  }
  return problems;
}

function backendRefProblems(ref: unknown, at: string): string[] {
  if (!isObject(ref)) return [`${at}: must be an object`];
  const problems = unknownFields(ref, BACKEND_FIELDS, at);
  if (typeof ref.name !== 'string' || !NAME.test(ref.name))
    problems.push(`${at}/name: required, a DNS label`);
  const isService = (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service';
  if (isService && ref.port === undefined) problems.push(`${at}/port: required for a Service`);
  problems.push(...portProblems(ref.port, `${at}/port`));
  if (ref.weight !== undefined && !(Number.isInteger(ref.weight) && (ref.weight as number) >= 0))
    problems.push(`${at}/weight: a non-negative integer`);
  return problems;
}

function ruleProblems(rule: unknown, at: string): string[] {
  if (!isObject(rule)) return [`${at}: must be an object`];
  const problems = unknownFields(rule, RULE_FIELDS, at);
  listAt(rule.matches, `${at}/matches`, problems, { max: 64 }).forEach((m, i) => {
    problems.push(...matchProblems(m, `${at}/matches/${i}`));
  });
  listAt(rule.backendRefs, `${at}/backendRefs`, problems, { max: 16 }).forEach((b, i) => {
    problems.push(...backendRefProblems(b, `${at}/backendRefs/${i}`));
  });
  listAt(rule.filters, `${at}/filters`, problems, { max: 16 });
  if (rule.timeouts !== undefined) {
    if (!isObject(rule.timeouts)) problems.push(`${at}/timeouts: must be an object`);
    else {
      problems.push(...unknownFields(rule.timeouts, TIMEOUT_FIELDS, `${at}/timeouts`));
      for (const key of TIMEOUT_FIELDS) {
        const value = rule.timeouts[key];
        if (value !== undefined && (typeof value !== 'string' || !DURATION.test(value)))
          problems.push(`${at}/timeouts/${key}: a Gateway API duration (e.g. 30s, 1h)`);
      }
    }
  }
  return problems;
}

/** The HTTPRoute's shape, as its CRD schema would check it (types, enums, limits, no unknown fields). */
export function httpRouteShapeProblems(route: KubeObject): string[] {
  if (route.apiVersion !== HTTP_ROUTE_API_VERSION || route.kind !== 'HTTPRoute')
    return [`: not a ${HTTP_ROUTE_API_VERSION} HTTPRoute`];
  const problems = unknownFields(route, ['apiVersion', 'kind', 'metadata', 'spec'], '');
  const spec = route.spec;
  if (!isObject(spec)) return [...problems, '/spec: required'];
  problems.push(...unknownFields(spec, SPEC_FIELDS, '/spec'));
  listAt(spec.parentRefs, '/spec/parentRefs', problems, { max: 32, min: 1 }).forEach((p, i) => {
    problems.push(...parentRefProblems(p, `/spec/parentRefs/${i}`));
  });
  listAt(spec.hostnames, '/spec/hostnames', problems, { max: 16 }).forEach((h, i) => {
    if (typeof h !== 'string' || !HOSTNAME.test(h))
      problems.push(`/spec/hostnames/${i}: "${h}" is no hostname`);
  });
  listAt(spec.rules, '/spec/rules', problems, { max: 16 }).forEach((r, i) => {
    problems.push(...ruleProblems(r, `/spec/rules/${i}`));
  });
  return problems;
}

/** Whether a request for `path` (any method) would be sent by this match. No path means PathPrefix "/". */
export function matchesPath(match: RouteMatch, path: string): boolean {
  const type = match.path?.type ?? 'PathPrefix';
  const value = match.path?.value ?? '/';
  if (type === 'Exact') return path === value;
  if (type === 'RegularExpression') return new RegExp(`^(?:${value})$`).test(path);
  const prefix = value.endsWith('/') ? value.slice(0, -1) : value;
  return path === prefix || path.startsWith(`${prefix}/`) || prefix === '';
}

/** A rule without matches matches every request (Gateway API: PathPrefix "/"). */
function ruleMatches(rule: RouteRule): RouteMatch[] {
  return rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
}

/**
 * What the route refers to, against the rendered objects: every backendRef is a Service in the route's
 * namespace with that port (HTTPRoute names ports by number); no rule sends /metrics or /health.
 */
export function httpRouteReferenceProblems(route: KubeObject, objects: KubeObject[]): string[] {
  const problems: string[] = [];
  const namespace = route.metadata.namespace;
  const spec = route.spec as HTTPRouteSpec;
  (spec.rules ?? []).forEach((rule, i) => {
    if (!rule.backendRefs || rule.backendRefs.length === 0)
      problems.push(`/spec/rules/${i}: no backendRefs (every request it matches gets a 500)`);
    for (const ref of rule.backendRefs ?? []) {
      if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') {
        problems.push(`/spec/rules/${i}: backend ${ref.kind ?? ''} ${ref.name} is not a Service`);
        continue;
      }
      if ((ref.namespace ?? namespace) !== namespace) {
        problems.push(`/spec/rules/${i}: backend ${ref.name} in another namespace (needs a ReferenceGrant)`);
        continue;
      }
      const service = objects.find(
        (o) => o.kind === 'Service' && o.metadata.name === ref.name && o.metadata.namespace === namespace,
      );
      if (!service) {
        problems.push(`/spec/rules/${i}: backend Service ${ref.name} does not exist`);
        continue;
      }
      const ports = ((service.spec as { ports?: { port: number }[] }).ports ?? []).map((p) => p.port);
      if (!ports.includes(ref.port as number))
        problems.push(
          `/spec/rules/${i}: Service ${ref.name} has no port ${ref.port} (it has ${ports.join(', ')})`,
        );
    }
    for (const match of ruleMatches(rule)) {
      for (const path of PRIVATE_PATHS) {
        if (matchesPath(match, path))
          problems.push(
            `/spec/rules/${i}: routes ${path} publicly (${match.path?.type ?? 'PathPrefix'} ${match.path?.value ?? '/'})`,
          );
      }
    }
  });
  return problems;
}

/** One line per host, method and path: `api POST /api/orders → order-service:8081` (host's first label). */
export function routeTable(route: KubeObject): string[] {
  const spec = route.spec as HTTPRouteSpec;
  const lines: string[] = [];
  for (const host of spec.hostnames ?? ['*']) {
    for (const rule of spec.rules ?? []) {
      for (const match of ruleMatches(rule)) {
        const backends = (rule.backendRefs ?? []).map((b) => `${b.name}:${b.port}`).join(', ');
        lines.push(`${host.split('.')[0]} ${match.method ?? '*'} ${match.path?.value ?? '/'} → ${backends}`);
      }
    }
  }
  return lines;
}
