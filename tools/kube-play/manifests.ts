/**
 * What `./dispatch kube-play` hands to `podman kube play`, worked out from a rendered overlay (pure:
 * no podman, no files). Podman (4.3 here) plays Deployments, ConfigMaps and Secrets (and Pods and
 * PersistentVolumeClaims, which the overlays have none of); everything else is left out, each kind with
 * the reason. The Deployments are changed only where a single machine without a cluster needs it:
 * host network (the local stack listens on loopback), their ports moved by an offset (the stack has
 * the services' own), the images the local ones, and the probes taken out (podman runs none of them
 * faithfully: readiness and startup not at all, liveness as a `curl` the images do not have) because
 * the runner asks them itself, from the targets this returns.
 */
import {
  type Container,
  findObject,
  objectData,
  type Probe,
  resolveEnv,
  resolvePort,
} from '../deploy-check/src/k8s-checks';
import type { KubeObject } from '../deploy-check/src/kubernetes-schemas';
import { ManifestError } from './errors';
import { type JobTarget, jobPod } from './jobs';

export { ManifestError };

/** Why each kind of the overlays is not played. */
export const LEFT_OUT_REASONS: Record<string, string> = {
  Namespace: 'podman has no namespaces (every name here is unique already)',
  ServiceAccount: 'no API server; the pods mount no token anyway (automountServiceAccountToken: false)',
  Service:
    'no cluster DNS or kube-proxy: the pods use the host network, each on its own port (the Deployment port + the offset)',
  StatefulSet:
    "the dev overlay's servers: the running local stack's Kafka, Cassandra, PostgreSQL and Redis stand in for them (dispatch-infra points there); podman kube play has no StatefulSet",
  Job: 'podman kube play has no Job (--jobs plays their pod templates as Pods); what they do (databases and roles, the Cassandra role, Kafka logins and ACLs, topics) ./dispatch up has done for the local stack',
  HorizontalPodAutoscaler: 'no metrics server or controller: one pod per Deployment',
  PodDisruptionBudget: 'no eviction API',
  NetworkPolicy: 'no network plugin to enforce it (host network)',
  HTTPRoute: "no Gateway: requests go to the pods' ports directly",
  ServiceMonitor: 'no Prometheus Operator',
  PrometheusRule: 'no Prometheus Operator',
};

const PLAYED_KINDS = new Set(['Deployment', 'ConfigMap', 'Secret']);

export interface PlayOptions {
  /** Added to every container port (8081 → 28081): the local stack has the services' own ports. */
  portOffset: number;
  /** Image references without a registry get this one (`dispatch/x:dev` → `localhost/dispatch/x:dev`). */
  registry: string;
  /**
   * Values of Secrets by name (a generated one's name without kustomize's hash suffix also matches):
   * a rendered Secret named here is replaced by these values, and a Secret the overlay expects the
   * operator to create is made from them.
   */
  secrets: Record<string, Record<string, string>>;
  /** The same for ConfigMaps the operator creates (dispatch-token-jwks). */
  configMaps: Record<string, Record<string, string>>;
  /**
   * When set, each Job's pod template is played as a Pod (jobs.ts), its images replaced by these
   * (an image without an entry is an error).
   */
  jobImages?: Record<string, string>;
}

export interface LeftOut {
  kind: string;
  name: string;
  reason: string;
}

/** Where the runner asks a played container's probes (the host network: 127.0.0.1). */
export interface ProbeTarget {
  deployment: string;
  container: string;
  port: number;
  startupPath?: string;
  livenessPath?: string;
  readinessPath: string;
}

export interface PlayPlan {
  /** The Secrets the Deployments read: made podman secrets by the runner (podmanSecretData), not played. */
  secrets: KubeObject[];
  /** What `podman kube play` gets: the ConfigMaps, then the Deployments. */
  played: KubeObject[];
  leftOut: LeftOut[];
  targets: ProbeTarget[];
  /** The Pods played for the Jobs (with jobImages), in `played` before the Deployments. */
  jobs: JobTarget[];
}

export interface PodTemplate {
  hostNetwork?: boolean;
  containers: Container[];
  initContainers?: Container[];
  volumes?: {
    name: string;
    configMap?: { name: string; optional?: boolean };
    secret?: { secretName: string };
  }[];
}

function podOf(workload: KubeObject): PodTemplate {
  if (workload.kind === 'Pod') return workload.spec as PodTemplate;
  return (workload.spec as { template: { spec: PodTemplate } }).template.spec;
}

/** `dispatch-infra-5c5mf2d465` → `dispatch-infra`: kustomize's generators append a 10-character hash. */
export function withoutHashSuffix(name: string): string {
  return name.replace(/-[a-z0-9]{10}$/, '');
}

function lookup<T>(table: Record<string, T>, name: string): T | undefined {
  return table[name] ?? table[withoutHashSuffix(name)];
}

/** `dispatch/order-service:dev` → `localhost/dispatch/order-service:dev`; a reference with a registry stays. */
export function qualifyImage(image: string, registry: string): string {
  const first = image.split('/')[0]!;
  const hasRegistry =
    image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasRegistry ? image : `${registry}/${image}`;
}

/** The Secrets and ConfigMaps a pod reads (env, envFrom, volumes), with whether each reference is optional. */
export function referencedSources(pod: PodTemplate): {
  secrets: Map<string, boolean>;
  configMaps: Map<string, boolean>;
} {
  const secrets = new Map<string, boolean>();
  const configMaps = new Map<string, boolean>();
  const note = (map: Map<string, boolean>, name: string, optional: boolean | undefined) =>
    map.set(name, (map.get(name) ?? true) && optional === true);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef) note(configMaps, from.configMapRef.name, false);
      if (from.secretRef) note(secrets, from.secretRef.name, false);
    }
    for (const variable of container.env ?? []) {
      const secretRef = variable.valueFrom?.secretKeyRef;
      const configRef = variable.valueFrom?.configMapKeyRef;
      if (secretRef) note(secrets, secretRef.name, secretRef.optional);
      if (configRef) note(configMaps, configRef.name, configRef.optional);
    }
  }
  for (const volume of pod.volumes ?? []) {
    if (volume.configMap) note(configMaps, volume.configMap.name, volume.configMap.optional);
    if (volume.secret) note(secrets, volume.secret.secretName, false);
  }
  return { secrets, configMaps };
}

function httpPath(probe: Probe | undefined): string | undefined {
  return probe?.httpGet?.path;
}

/**
 * One Deployment as podman plays it on this machine, and where its probes are. Throws ManifestError
 * when the manifest contradicts itself (PORT is not the port its probes ask, no HTTP readiness probe).
 */
export function patchDeployment(
  deployment: KubeObject,
  opts: Pick<PlayOptions, 'portOffset' | 'registry'>,
): { deployment: KubeObject; targets: ProbeTarget[] } {
  const patched = structuredClone(deployment);
  const pod = podOf(patched);
  const name = deployment.metadata.name;
  const targets: ProbeTarget[] = [];
  pod.hostNetwork = true;
  for (const container of pod.containers) {
    const where = `Deployment ${name} container ${container.name}`;
    const readiness = container.readinessProbe?.httpGet;
    if (!readiness?.path) throw new ManifestError(`${where}: no HTTP readinessProbe to wait for`);
    const probePort = resolvePort(container, readiness.port);
    if (probePort === undefined) {
      throw new ManifestError(`${where}: readinessProbe port ${readiness.port} names no container port`);
    }
    for (const field of ['startupProbe', 'livenessProbe'] as const) {
      const probe = container[field]?.httpGet;
      if (probe && resolvePort(container, probe.port) !== probePort) {
        throw new ManifestError(
          `${where}: ${field} asks port ${probe.port} (${resolvePort(container, probe.port)}), readiness ${probePort}`,
        );
      }
    }
    const portVariable = container.env?.find((v) => v.name === 'PORT');
    if (portVariable?.value !== String(probePort)) {
      throw new ManifestError(
        `${where}: PORT is ${portVariable?.value ?? 'unset'}, but its probes ask port ${probePort}`,
      );
    }
    const port = probePort + opts.portOffset;
    portVariable.value = String(port);
    targets.push({
      deployment: name,
      container: container.name,
      port,
      readinessPath: readiness.path,
      ...(httpPath(container.startupProbe) ? { startupPath: httpPath(container.startupProbe) } : {}),
      ...(httpPath(container.livenessProbe) ? { livenessPath: httpPath(container.livenessProbe) } : {}),
    });
    if (container.image) container.image = qualifyImage(container.image, opts.registry);
    (container as { imagePullPolicy?: string }).imagePullPolicy = 'Never';
    // With the host network podman refuses port mappings, and a containerPort is only informative there.
    delete container.ports;
    delete container.startupProbe;
    delete container.livenessProbe;
    delete container.readinessProbe;
  }
  return { deployment: patched, targets };
}

function secretObject(name: string, values: Record<string, string>): KubeObject {
  const data = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data };
}

function configMapObject(name: string, values: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { ...values } };
}

/**
 * The rendered overlay → what is played, what is left out and why, and the probe targets. Secrets
 * and ConfigMaps are played only when a played Deployment reads them; every reference must then
 * resolve (an optional one may stay missing), or ManifestError lists what would not.
 */
export function planPlay(rendered: KubeObject[], opts: PlayOptions): PlayPlan {
  const leftOut: LeftOut[] = [];
  const deployments: KubeObject[] = [];
  const targets: ProbeTarget[] = [];
  for (const object of rendered) {
    if (object.kind !== 'Deployment') continue;
    const patched = patchDeployment(object, opts);
    deployments.push(patched.deployment);
    targets.push(...patched.targets);
  }
  if (deployments.length === 0) throw new ManifestError('the overlay renders no Deployment');
  const jobs = opts.jobImages
    ? rendered.filter((o) => o.kind === 'Job').map((job) => jobPod(job, opts.jobImages!))
    : [];
  const workloads = [...jobs.map((j) => j.pod), ...deployments];

  const secretRefs = new Map<string, boolean>();
  const configMapRefs = new Map<string, boolean>();
  for (const workload of workloads) {
    const refs = referencedSources(podOf(workload));
    for (const [name, optional] of refs.secrets)
      secretRefs.set(name, (secretRefs.get(name) ?? true) && optional);
    for (const [name, optional] of refs.configMaps)
      configMapRefs.set(name, (configMapRefs.get(name) ?? true) && optional);
  }

  const secrets: KubeObject[] = [];
  const configMaps: KubeObject[] = [];
  const missing: string[] = [];
  for (const [name, optional] of secretRefs) {
    const injected = lookup(opts.secrets, name);
    if (injected) secrets.push(secretObject(name, injected));
    else if (findObject(rendered, 'Secret', name))
      secrets.push(structuredClone(findObject(rendered, 'Secret', name)!));
    else if (!optional) missing.push(`Secret ${name}`);
  }
  for (const [name, optional] of configMapRefs) {
    const injected = lookup(opts.configMaps, name);
    if (injected) configMaps.push(configMapObject(name, injected));
    else if (findObject(rendered, 'ConfigMap', name))
      configMaps.push(structuredClone(findObject(rendered, 'ConfigMap', name)!));
    else if (!optional) missing.push(`ConfigMap ${name}`);
  }
  if (missing.length > 0) {
    throw new ManifestError(
      `the played workloads read what neither the overlay nor this run provides: ${missing.join(', ')}`,
    );
  }

  const problems = envProblems(workloads, [...secrets, ...configMaps]);
  if (problems.length > 0) throw new ManifestError(`unresolved environment:\n  ${problems.join('\n  ')}`);

  for (const object of rendered) {
    if (object.kind === 'Deployment' || (object.kind === 'Job' && opts.jobImages)) continue;
    const played =
      (object.kind === 'Secret' && secrets.some((s) => s.metadata.name === object.metadata.name)) ||
      (object.kind === 'ConfigMap' && configMaps.some((c) => c.metadata.name === object.metadata.name));
    if (played) continue;
    const reason = PLAYED_KINDS.has(object.kind)
      ? 'read by nothing played (only by the StatefulSets or Jobs left out)'
      : (LEFT_OUT_REASONS[object.kind] ?? 'podman kube play does not play this kind');
    leftOut.push({ kind: object.kind, name: object.metadata.name, reason });
  }
  return {
    secrets,
    played: [...configMaps, ...workloads],
    leftOut,
    targets,
    jobs: jobs.map((j) => j.target),
  };
}

/** Every variable of every played container resolves against the played Secrets and ConfigMaps. */
function envProblems(workloads: KubeObject[], sources: KubeObject[]): string[] {
  const values = {
    secrets: new Map<string, Record<string, string>>(),
    configMaps: new Map<string, Record<string, string>>(),
  };
  for (const source of sources) {
    (source.kind === 'Secret' ? values.secrets : values.configMaps).set(
      source.metadata.name,
      objectData(source),
    );
  }
  return workloads.flatMap((workload) =>
    podOf(workload).containers.flatMap((container) =>
      resolveEnv(container, values).problems.map((p) => `${workload.kind} ${workload.metadata.name}: ${p}`),
    ),
  );
}

/** "6 Deployment, 9 ConfigMap, 12 Secret": what a list of objects holds, by kind, in first-seen order. */
export function countByKind(objects: { kind: string }[]): string {
  const counts = new Map<string, number>();
  for (const object of objects) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ');
}

/**
 * What podman 4.3's secretKeyRef reads from a podman secret: a JSON object of base64 values, i.e. the
 * Secret's `data` (it cannot read back the Secret documents its own kube play stores, so the runner
 * creates the podman secrets from this instead of playing the Secret objects).
 */
export function podmanSecretData(secret: KubeObject): string {
  const data = (secret.data as Record<string, string> | undefined) ?? {};
  const fromString = Object.fromEntries(
    Object.entries((secret.stringData as Record<string, string> | undefined) ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v, 'utf8').toString('base64'),
    ]),
  );
  return JSON.stringify({ ...data, ...fromString });
}
