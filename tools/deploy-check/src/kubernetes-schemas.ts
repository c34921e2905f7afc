import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { HTTP_ROUTE_API_VERSION, httpRouteShapeProblems } from './gateway-api';
import { createAjv, type JsonSchema, runValidator, strictObjects } from './json-schema';
import { SCHEMAS_DIR } from './paths';

/** A rendered manifest: what `kubectl kustomize` prints, one object per YAML document. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** Custom resources: their schemas carry no group/version/kind of their own. */
const CRD_SCHEMAS: { file: string; apiVersion: string; kind: string }[] = [
  { file: 'crds/servicemonitor_v1.json', apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
  { file: 'crds/prometheusrule_v1.json', apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' },
];

/**
 * Kinds without a vendored schema that a structural check stands in for (the schema wins once one is
 * vendored): Gateway API's HTTPRoute (gateway-api.ts).
 */
const STRUCTURAL_CHECKS: Record<string, (object: KubeObject) => string[]> = {
  [`${HTTP_ROUTE_API_VERSION} HTTPRoute`]: httpRouteShapeProblems,
};

export function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

function readSchema(file: string): JsonSchema {
  const schema = JSON.parse(readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as JsonSchema;
  delete schema.$schema; // "http://json-schema.org/schema#" is no draft Ajv knows; the content is draft-04-compatible
  return schema;
}

/**
 * Validates Kubernetes objects against the vendored Kubernetes 1.34 schemas and the Prometheus
 * Operator CRD schemas, strictly (unknown fields are errors). Custom resources get their metadata
 * checked against Kubernetes' ObjectMeta too, since a CRD schema leaves it open.
 */
export class KubernetesValidator {
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly objectMeta: ValidateFunction;

  constructor() {
    const ajv = createAjv();
    let objectMetaSchema: unknown;
    for (const file of readdirSync(path.join(SCHEMAS_DIR, 'kubernetes'))) {
      if (!file.endsWith('.json')) continue;
      const schema = readSchema(path.join('kubernetes', file));
      const gvks = schema['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
      if (!gvks) throw new Error(`${file}: no x-kubernetes-group-version-kind`);
      const validate = ajv.compile(strictObjects(schema));
      for (const gvk of gvks) {
        const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
        this.validators.set(typeKey(apiVersion, gvk.kind), validate);
      }
      objectMetaSchema ??= (schema.properties as JsonSchema | undefined)?.metadata;
    }
    for (const crd of CRD_SCHEMAS) {
      this.validators.set(
        typeKey(crd.apiVersion, crd.kind),
        ajv.compile(strictObjects(readSchema(crd.file))),
      );
    }
    if (!objectMetaSchema) throw new Error('no ObjectMeta schema among the Kubernetes schemas');
    this.objectMeta = ajv.compile(strictObjects(objectMetaSchema as JsonSchema));
  }

  /** The kinds a schema exists for, as `apiVersion kind`. */
  knownTypes(): string[] {
    return [...this.validators.keys()].sort();
  }

  /** The kinds checked structurally instead (no schema vendored), as `apiVersion kind`. */
  structuralTypes(): string[] {
    return Object.keys(STRUCTURAL_CHECKS).filter((key) => !this.validators.has(key));
  }

  /** Every problem with the object, one line each; empty when it is valid. */
  validate(object: KubeObject): string[] {
    const validate = this.validators.get(typeKey(object.apiVersion, object.kind));
    const structural = STRUCTURAL_CHECKS[typeKey(object.apiVersion, object.kind)];
    if (!validate && structural) return [...structural(object), ...this.metadataProblems(object)];
    if (!validate) {
      return [
        `no schema for ${object.apiVersion} ${object.kind}: add it to tools/deploy-check/schemas (see its README)`,
      ];
    }
    const problems = runValidator(validate, object);
    const isCustomResource = CRD_SCHEMAS.some(
      (c) => c.apiVersion === object.apiVersion && c.kind === object.kind,
    );
    if (isCustomResource) problems.push(...this.metadataProblems(object));
    return problems;
  }

  /** The object's metadata against Kubernetes' ObjectMeta (a CRD's schema leaves it open). */
  private metadataProblems(object: KubeObject): string[] {
    return runValidator(this.objectMeta, object.metadata).map(
      (p) => `/metadata${p.startsWith('/:') ? p.slice(1) : p}`,
    );
  }
}
