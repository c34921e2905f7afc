import path from 'node:path';

/** The repository root (this file is tools/deploy-check/src/paths.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SCHEMAS_DIR = path.resolve(__dirname, '..', 'schemas');

export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
export const DOCKERFILE = path.join(REPO_ROOT, 'Dockerfile');
export const K8S_DIR = path.join(REPO_ROOT, 'k8s');
export const ALERTS_FILE = path.join(REPO_ROOT, 'dashboards', 'alerts.yml');
/** Generated from tools/stack/kafka-acls.ts (kafka-access.ts); run by compose and the k8s Job. */
export const KAFKA_ACCESS_SCRIPT = path.join(K8S_DIR, 'base', 'kafka', 'access.sh');
export const PROMETHEUS_RULE_FILE = path.join(K8S_DIR, 'components', 'monitoring', 'prometheusrule.yaml');

export function repoPath(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}
