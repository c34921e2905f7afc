import { createAjv, goRegExp, runValidator, strictObjects } from './json-schema';
import { KubernetesValidator } from './kubernetes-schemas';

describe('goRegExp', () => {
  test('turns Go inline flags into JavaScript flags', () => {
    expect(goRegExp('^(?i)(abort|warn)?$', 'u').test('ABORT')).toBe(true);
    expect(goRegExp('^(?i)(abort|warn)?$', 'u').test('stop')).toBe(false);
    expect(goRegExp('^[a-z]+$', 'u').test('ABC')).toBe(false);
  });
});

describe('strictObjects', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: { type: 'object', properties: { port: { type: 'integer' } } },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      // A field literally named "properties" is a field, not a keyword.
      properties: { type: 'object', properties: { a: { type: 'string' } } },
    },
  };
  const validate = createAjv().compile(strictObjects(schema));

  test('rejects unknown fields at every level', () => {
    expect(runValidator(validate, { spec: { port: 1, prot: 2 }, extra: true })).toEqual([
      '/: unknown field "extra"',
      '/spec: unknown field "prot"',
    ]);
  });

  test('leaves maps (additionalProperties) open and accepts known fields', () => {
    expect(
      runValidator(validate, { spec: { port: 1 }, labels: { any: 'x' }, properties: { a: 'b' } }),
    ).toEqual([]);
    expect(runValidator(validate, { properties: { b: 'c' } })).toEqual(['/properties: unknown field "b"']);
  });
});

describe('KubernetesValidator', () => {
  const validator = new KubernetesValidator();
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labels: { a: 'b' } },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          containers: [
            { name: 'c', image: 'i', readinessProbe: { httpGet: { path: '/health/ready', port: 'http' } } },
          ],
        },
      },
    },
  };

  test('accepts a valid Deployment', () => {
    expect(validator.validate(deployment)).toEqual([]);
  });

  test('names every misspelt or mistyped field', () => {
    const bad = structuredClone(deployment) as typeof deployment & Record<string, unknown>;
    (bad.metadata as Record<string, unknown>).lables = {};
    const container = bad.spec.template.spec.containers[0] as Record<string, unknown>;
    container.readinessProbes = {};
    container.ports = [{ containerPort: '8080' }];
    expect(validator.validate(bad)).toEqual(
      expect.arrayContaining([
        '/metadata: unknown field "lables"',
        '/spec/template/spec/containers/0: unknown field "readinessProbes"',
        '/spec/template/spec/containers/0/ports/0/containerPort: must be integer',
      ]),
    );
  });

  test('requires the fields the API requires', () => {
    const bad = structuredClone(deployment) as { spec: Partial<typeof deployment.spec> };
    delete bad.spec.selector;
    expect(validator.validate(bad as never)).toContain("/spec: must have required property 'selector'");
  });

  test('refuses kinds it has no schema for, instead of passing them', () => {
    expect(validator.validate({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })[0]).toMatch(
      /no schema for v1 Pod/,
    );
  });

  test('checks custom resources, including their metadata', () => {
    const monitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'm', labelz: {} },
      spec: { selector: {}, endpoints: [{ port: 'http', pathh: '/metrics' }] },
    };
    expect(validator.validate(monitor)).toEqual(
      expect.arrayContaining([
        '/spec/endpoints/0: unknown field "pathh"',
        '/metadata: unknown field "labelz"',
      ]),
    );
  });
});
