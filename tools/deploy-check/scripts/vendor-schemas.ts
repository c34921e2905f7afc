/**
 * Copies the JSON schemas the deployment checks validate against into tools/deploy-check/schemas.
 * Run it again to move to newer upstream versions, then update schemas/README.md (sources, commits).
 *
 *   pnpm exec tsx tools/deploy-check/scripts/vendor-schemas.ts \
 *     --kubernetes <checkout of ricoberger/kubernetes-json-schema>/schemas \
 *     --crds <checkout of datreeio/CRDs-catalog>/monitoring.coreos.com \
 *     --compose <checkout of compose-spec/compose-spec>/schema/compose-spec.json
 *
 * Kubernetes schemas are copied without their "description" texts (they are 90% of the bytes and
 * never used by a validator); everything else is copied as it is. Strictness (no unknown fields)
 * is added when the schemas are loaded (src/json-schema.ts), not here.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The Kubernetes kinds our manifests use, as named in the upstream folder. */
const KUBERNETES_FILES = [
  'namespace-v1',
  'serviceaccount-v1',
  'configmap-v1',
  'secret-v1',
  'service-v1',
  'deployment-apps-v1',
  'statefulset-apps-v1',
  'job-batch-v1',
  'horizontalpodautoscaler-autoscaling-v2',
  'poddisruptionbudget-policy-v1',
  'ingress-networking-v1',
  'networkpolicy-networking-v1',
];
const CRD_FILES = ['servicemonitor_v1', 'prometheusrule_v1'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Drops documentation strings; a property that happens to be named "description" is an object and stays. */
export function withoutDescriptions(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'description' && typeof child === 'string') continue;
    out[key] = withoutDescriptions(child);
  }
  return out;
}

function argValue(argv: string[], name: string): string {
  const index = argv.indexOf(name);
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (!value) throw new Error(`missing ${name} <path> (see the header of this file)`);
  return value;
}

function main(argv: string[]): void {
  const out = path.resolve(__dirname, '..', 'schemas');
  const kubernetesDir = argValue(argv, '--kubernetes');
  const crdDir = argValue(argv, '--crds');
  const composeFile = argValue(argv, '--compose');
  mkdirSync(path.join(out, 'kubernetes'), { recursive: true });
  mkdirSync(path.join(out, 'crds'), { recursive: true });
  for (const name of KUBERNETES_FILES) {
    const schema = JSON.parse(readFileSync(path.join(kubernetesDir, `${name}.json`), 'utf8')) as Json;
    writeFileSync(
      path.join(out, 'kubernetes', `${name}.json`),
      `${JSON.stringify(withoutDescriptions(schema))}\n`,
    );
  }
  for (const name of CRD_FILES) {
    copyFileSync(path.join(crdDir, `${name}.json`), path.join(out, 'crds', `${name}.json`));
  }
  copyFileSync(composeFile, path.join(out, 'compose-spec.json'));
  process.stdout.write(`schemas written to ${out}\n`);
}

if (require.main === module) main(process.argv.slice(2));
