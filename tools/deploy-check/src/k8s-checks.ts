import type { KubeObject } from './kubernetes-schemas';

/**
 * Pure checks over rendered manifests (what `kubectl kustomize` printed). Each returns the
 * problems it found, one line each, so a test can show all of them at once.
 */

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
}

export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
    privileged?: boolean;
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  volumes?: { name: string; emptyDir?: unknown }[];
  automountServiceAccountToken?: boolean;
}

export interface Workload {
  kind: string;
  name: string;
  labels: Record<string, string>;
  pod: PodSpec;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Job', 'DaemonSet']);

/** Every object that runs pods, with its pod template. */
export function workloads(objects: KubeObject[]): Workload[] {
  return objects
    .filter((o) => WORKLOAD_KINDS.has(o.kind))
    .map((o) => {
      const template = (
        o.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } }
      ).template;
      return {
        kind: o.kind,
        name: o.metadata.name,
        labels: template.metadata?.labels ?? {},
        pod: template.spec,
      };
    });
}

export function findObject(objects: KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

/** Values of a rendered Secret (base64 `data` decoded, `stringData` as is) or ConfigMap. */
export function objectData(object: KubeObject): Record<string, string> {
  const values: Record<string, string> = {};
  const data = object.data as Record<string, string> | undefined;
  for (const [key, value] of Object.entries(data ?? {})) {
    values[key] = object.kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
  }
  Object.assign(values, (object.stringData as Record<string, string> | undefined) ?? {});
  return values;
}

/**
 * Secrets and ConfigMaps a container can read: the rendered ones plus the ones the operator
 * creates outside the kustomization (their templates list the keys; sample values stand in).
 */
export interface ValueSources {
  secrets: Map<string, Record<string, string>>;
  configMaps: Map<string, Record<string, string>>;
}

export function valueSources(objects: KubeObject[], externalSecrets: KubeObject[] = []): ValueSources {
  const sources: ValueSources = { secrets: new Map(), configMaps: new Map() };
  for (const object of [...objects, ...externalSecrets]) {
    if (object.kind === 'Secret') sources.secrets.set(object.metadata.name, objectData(object));
    if (object.kind === 'ConfigMap') sources.configMaps.set(object.metadata.name, objectData(object));
  }
  return sources;
}

/** The environment a container starts with, and every reference that would not resolve. */
export function resolveEnv(
  container: Container,
  sources: ValueSources,
): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const map = from.configMapRef ? sources.configMaps : sources.secrets;
    const what = from.configMapRef ? 'ConfigMap' : 'Secret';
    const values = ref ? map.get(ref.name) : undefined;
    if (!ref || !values) problems.push(`envFrom: ${what} ${ref?.name} does not exist`);
    else Object.assign(env, values);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value;
      continue;
    }
    const secretRef = variable.valueFrom?.secretKeyRef;
    const configRef = variable.valueFrom?.configMapKeyRef;
    const ref = secretRef ?? configRef;
    if (!ref) {
      problems.push(`${variable.name}: neither a value nor a Secret/ConfigMap key`);
      continue;
    }
    const what = secretRef ? 'Secret' : 'ConfigMap';
    const values = (secretRef ? sources.secrets : sources.configMaps).get(ref.name);
    // An optional reference to what is not there leaves the variable unset, as the kubelet does.
    if (ref.optional && values?.[ref.key] === undefined) continue;
    if (!values) problems.push(`${variable.name}: ${what} ${ref.name} does not exist`);
    else if (values[ref.key] === undefined)
      problems.push(`${variable.name}: ${what} ${ref.name} has no key ${ref.key}`);
    else env[variable.name] = values[ref.key]!;
  }
  return { env, problems };
}

/**
 * The "restricted" Pod Security Standard, plus our own rule for the services: a read-only root
 * filesystem (with a writable /tmp for Node's and the libraries' temp files).
 */
export function securityProblems(workload: Workload, opts: { readOnlyRoot: boolean }): string[] {
  const problems: string[] = [];
  const pod = workload.pod.securityContext ?? {};
  const where = `${workload.kind} ${workload.name}`;
  if (workload.pod.automountServiceAccountToken !== false)
    problems.push(`${where}: mounts a service account token`);
  for (const container of [...(workload.pod.initContainers ?? []), ...workload.pod.containers]) {
    const c = container.securityContext ?? {};
    const at = `${where} container ${container.name}`;
    if ((c.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot is not true`);
    if ((c.runAsUser ?? pod.runAsUser) === 0) problems.push(`${at}: runs as uid 0`);
    if (c.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
    if (c.privileged) problems.push(`${at}: privileged`);
    if (!c.capabilities?.drop?.includes('ALL')) problems.push(`${at}: does not drop ALL capabilities`);
    if ((c.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE'))
      problems.push(`${at}: adds capabilities`);
    if ((c.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault') {
      problems.push(`${at}: seccomp profile is not RuntimeDefault`);
    }
    if (opts.readOnlyRoot) {
      if (c.readOnlyRootFilesystem !== true) problems.push(`${at}: root filesystem is writable`);
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      const volume = tmp && workload.pod.volumes?.find((v) => v.name === tmp.name);
      if (!volume?.emptyDir)
        problems.push(`${at}: no emptyDir at /tmp (Node and the libraries need a writable temp folder)`);
    }
    if (!container.resources?.requests?.cpu || !container.resources.requests.memory) {
      problems.push(`${at}: no cpu/memory requests`);
    }
    if (!container.resources?.limits?.memory) problems.push(`${at}: no memory limit`);
  }
  return problems;
}

/** The port number a probe or a Service's targetPort points at (names resolve through the container's ports). */
export function resolvePort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Startup and liveness on /health/live, readiness on /health/ready, all on the port the service listens on. */
export function probeProblems(container: Container, listenPort: number): string[] {
  const problems: string[] = [];
  const expected: [keyof Container, string][] = [
    ['startupProbe', '/health/live'],
    ['livenessProbe', '/health/live'],
    ['readinessProbe', '/health/ready'],
  ];
  for (const [field, path] of expected) {
    const probe = container[field] as Probe | undefined;
    if (!probe?.httpGet) {
      problems.push(`${container.name}: no HTTP ${field}`);
      continue;
    }
    if (probe.httpGet.path !== path)
      problems.push(`${container.name}: ${field} asks ${probe.httpGet.path}, not ${path}`);
    const port = resolvePort(container, probe.httpGet.port);
    if (port !== listenPort) {
      problems.push(
        `${container.name}: ${field} asks port ${probe.httpGet.port} (${port}), the service listens on ${listenPort}`,
      );
    }
  }
  return problems;
}

/** True when every label of the selector is on the pod. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
