import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kubernetes-schemas';

/** kubectl (with its built-in kustomize) is missing or too old to render our kustomizations. */
export class KustomizeUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `cannot render kustomizations: ${detail}\n` +
        'The checks need kubectl ≥ 1.27 (built-in kustomize v5) on PATH, or KUBECTL=/path/to/kubectl. ' +
        'No cluster is needed: `kubectl kustomize` works offline. The java-maven-svc machine image ships it ' +
        '(/usr/bin/kubectl); elsewhere install the kubectl package from the Kubernetes apt repository ' +
        '(Debian bookworm only has 1.20, whose kustomize is too old).',
    );
    this.name = 'KustomizeUnavailableError';
  }
}

export class KustomizeRenderError extends Error {
  constructor(dir: string, output: string) {
    super(`kubectl kustomize ${dir} failed:\n${output}`);
    this.name = 'KustomizeRenderError';
  }
}

function kubectl(): string {
  return process.env.KUBECTL ?? 'kubectl';
}

/** The kustomize version built into kubectl, e.g. "v5.5.0"; throws KustomizeUnavailableError. */
export function kustomizeVersion(): string {
  let output: string;
  try {
    output = execFileSync(kubectl(), ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  } catch (err) {
    throw new KustomizeUnavailableError(
      `\`${kubectl()} version --client\` failed: ${(err as Error).message}`,
    );
  }
  const version = (JSON.parse(output) as { kustomizeVersion?: string }).kustomizeVersion;
  const major = Number(/^v?(\d+)\./.exec(version ?? '')?.[1]);
  if (!version || !(major >= 5)) {
    throw new KustomizeUnavailableError(`kubectl's kustomize is ${version ?? 'missing'}, need v5 or newer`);
  }
  return version;
}

/** Parses a multi-document YAML stream into objects, skipping empty documents. */
export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** `kubectl kustomize <dir>`: the objects an `apply -k <dir>` would send, without a cluster. */
export function renderKustomization(dir: string): KubeObject[] {
  kustomizeVersion();
  let output: string;
  try {
    output = execFileSync(kubectl(), ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new KustomizeRenderError(dir, e.stderr?.trim() || e.message);
  }
  return parseManifests(output);
}
