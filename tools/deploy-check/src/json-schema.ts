import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export type JsonSchema = { [key: string]: unknown };

/**
 * Kubernetes (and CRD) patterns are Go regular expressions, which may carry inline flags such as
 * `^(?i)(abort|warn)?$`; JavaScript has none, so they become flags of the whole expression (a
 * slight widening when the flag stood mid-pattern, harmless for validating our own manifests).
 */
export function goRegExp(pattern: string, flags: string): RegExp {
  let extra = '';
  const source = pattern.replace(/\(\?([ims]+)\)/g, (_group, inline: string) => {
    for (const flag of inline) if (!extra.includes(flag) && !flags.includes(flag)) extra += flag;
    return '';
  });
  return new RegExp(source, flags + extra);
}
goRegExp.code = 'goRegExp';

/**
 * One Ajv for all schemas: every error reported (not just the first), unknown keywords such as
 * Kubernetes' `x-kubernetes-*` extensions tolerated, and the OpenAPI number formats Kubernetes
 * uses (int32, int64, double, byte) checked as they are meant.
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, code: { regExp: goRegExp } });
  addFormats(ajv);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  return ajv;
}

/**
 * Returns a copy of the schema in which every object schema that lists `properties` but says
 * nothing about `additionalProperties` (or `x-kubernetes-preserve-unknown-fields`) rejects unknown
 * fields, so a misspelt key fails validation instead of being ignored.
 */
export function strictObjects<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((item) => strictObjects(item)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema as JsonSchema)) {
    // Inside `properties` the keys are field names, not keywords: recurse into each value only.
    if (key === 'properties' && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([name, child]) => [name, strictObjects(child)]),
      );
    } else {
      out[key] = strictObjects(value);
    }
  }
  const open = 'additionalProperties' in out || out['x-kubernetes-preserve-unknown-fields'] === true;
  if ('properties' in out && !open) out.additionalProperties = false;
  return out as T;
}

/** One line per problem: `/spec/template/spec/containers/0: must NOT have additional property "readinessProbes"`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  if (!errors) return [];
  const lines = errors
    // oneOf/anyOf failures repeat what their branches said; keep the branches' own messages.
    .filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf')
    .map((e) => {
      const where = e.instancePath || '/';
      if (e.keyword === 'additionalProperties') {
        return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
      }
      return `${where}: ${e.message ?? e.keyword}`;
    });
  return [...new Set(lines)];
}

export function runValidator(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : describeErrors(validate.errors);
}
