/** What the k8s tests share: the operator's Secrets from their templates, the overlays, the public routes. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Container, findObject } from './k8s-checks';
import { deploymentPrincipals } from './kafka-access';
import { type KubeObject, KubernetesValidator } from './kubernetes-schemas';
import { parseManifests, renderKustomization } from './kustomize';
import { K8S_DIR } from './paths';
import { SERVICE_CONFIGS } from './service-configs';

export const validator = new KubernetesValidator();

/** Secrets the operator creates outside the kustomizations; their templates list the keys. */
export function template(file: string, values: Record<string, string> = {}): KubeObject {
  const [secret] = parseManifests(readFileSync(path.join(K8S_DIR, file), 'utf8'));
  const data = { ...(secret!.stringData as Record<string, string>), ...values };
  return { ...secret!, stringData: data };
}
export const SECRETS_TEMPLATE = 'base/secret.template.yaml';
export const INFRA_TEMPLATE = 'overlays/prod/dispatch-infra.template.yaml';
/** One Secret <service>-postgres per service with a database: its own PostgreSQL login. */
export const PG_ROLES_TEMPLATE = 'base/postgres-roles.template.yaml';
export const PG_ROLES = SERVICE_CONFIGS.filter((s) => s.name !== 'query-api').map((s) => ({
  service: s.name,
  secret: `${s.name}-postgres`,
  role: s.name.replaceAll('-', '_'),
}));
/** The per-service Secrets as the operator creates them, with stand-in passwords. */
export function roleSecrets(): KubeObject[] {
  return parseManifests(readFileSync(path.join(K8S_DIR, PG_ROLES_TEMPLATE), 'utf8')).map((secret) => ({
    ...secret,
    stringData: {
      ...(secret.stringData as Record<string, string>),
      PGPASSWORD: `k8s-check-${secret.metadata.name}`,
    },
  }));
}
/** The Cassandra logins: the admin (only the roles Job) and query-api's own role. */
export const CASSANDRA_ROLES_TEMPLATE = 'base/cassandra-roles.template.yaml';
export function cassandraSecrets(): KubeObject[] {
  return parseManifests(readFileSync(path.join(K8S_DIR, CASSANDRA_ROLES_TEMPLATE), 'utf8')).map((secret) => ({
    ...secret,
    stringData: {
      ...(secret.stringData as Record<string, string>),
      CASSANDRA_PASSWORD: `k8s-check-${secret.metadata.name}`,
    },
  }));
}
/** The Kafka logins: one Secret per principal of the catalogue (<name>-kafka) and the admin's. */
export const KAFKA_TEMPLATE = 'base/kafka-principals.template.yaml';
/** The dev broker's own controller login. */
export const KAFKA_CONTROLLER_TEMPLATE = 'overlays/dev/kafka-controller.template.yaml';
export function kafkaSecrets(file = KAFKA_TEMPLATE): KubeObject[] {
  return parseManifests(readFileSync(path.join(K8S_DIR, file), 'utf8')).map((secret) => {
    const data = secret.stringData as Record<string, string>;
    const key = 'KAFKA_SASL_PASSWORD' in data ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_CONTROLLER_PASSWORD';
    return { ...secret, stringData: { ...data, [key]: `k8s-check-${secret.metadata.name}` } };
  });
}
export const KAFKA_PRINCIPALS = deploymentPrincipals().map((p) => p.name);
/** The issuer's public keys, a ConfigMap the operator creates (token-jwks.template.yaml). */
export const JWKS_TEMPLATE = 'base/token-jwks.template.yaml';
/** Stand-ins for the values the operator generates (the templates leave them empty). */
export const OPERATOR_SECRETS = {
  PGPASSWORD: 'k8s-check-password',
};

/** The Gateway an overlay attaches its HTTPRoutes to (its gateway.yaml, a kustomize-local ConfigMap). */
export function gatewayConfig(overlayDir: string): {
  name: string;
  namespace: string;
  proxyNamespace: string;
} {
  const [config] = parseManifests(readFileSync(path.join(K8S_DIR, overlayDir, 'gateway.yaml'), 'utf8'));
  return config!.data as { name: string; namespace: string; proxyNamespace: string };
}

/** The public routes, host's first label, method, path → Service:port (as the Ingress had them). */
export const PUBLIC_ROUTES = [
  'api * /api/orders → order-service:8081',
  'api * /api/inventory → inventory-service:8083',
  'api * /api/payments → payment-service:8082',
  'api * /api/drivers → delivery-service:8084',
  'api * /api/deliveries → delivery-service:8084',
  'api * /api/webhooks → webhook-service:8085',
  'query * /api/orders → query-api:8080',
];

export interface Overlay {
  name: string;
  dir: string;
  /** The HTTPRoutes' hostnames. */
  domain: string;
  /** Secrets that must exist in the namespace before `kubectl apply -k`. */
  external: KubeObject[];
}

export const OVERLAYS: Overlay[] = [
  {
    name: 'dev',
    dir: 'overlays/dev',
    domain: 'dispatch.localhost',
    external: [
      template(SECRETS_TEMPLATE, OPERATOR_SECRETS),
      ...roleSecrets(),
      ...cassandraSecrets(),
      ...kafkaSecrets(),
      ...kafkaSecrets(KAFKA_CONTROLLER_TEMPLATE),
    ],
  },
  {
    name: 'prod',
    dir: 'overlays/prod',
    domain: 'dispatch.example.com',
    external: [
      template(SECRETS_TEMPLATE, OPERATOR_SECRETS),
      template(INFRA_TEMPLATE),
      ...roleSecrets(),
      ...cassandraSecrets(),
      ...kafkaSecrets(),
    ],
  },
];

/** An overlay rendered once before the tests of the describe block that calls this. */
export interface RenderedOverlay {
  objects: KubeObject[];
  deployment(name: string): KubeObject | undefined;
  /** The first container of a Deployment. */
  container(name: string): Container;
}

export function useRenderedOverlay(overlay: Pick<Overlay, 'dir'>): RenderedOverlay {
  const rendered: RenderedOverlay = {
    objects: [],
    deployment: (name) => findObject(rendered.objects, 'Deployment', name),
    container: (name) =>
      (rendered.deployment(name)!.spec as { template: { spec: { containers: Container[] } } }).template.spec
        .containers[0]!,
  };
  beforeAll(() => {
    rendered.objects = renderKustomization(path.join(K8S_DIR, overlay.dir));
  });
  return rendered;
}
