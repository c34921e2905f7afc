import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpRouteReferenceProblems, httpRouteShapeProblems, matchesPath } from './gateway-api';
import { findObject } from './k8s-checks';
import { PUBLIC_ROUTES, validator } from './kubernetes.fixtures';
import type { KubeObject } from './kubernetes-schemas';
import { parseManifests, renderKustomization } from './kustomize';
import { K8S_DIR } from './paths';
import { SERVICE_CONFIGS } from './service-configs';

describe('k8s/components/gateway (another Gateway, proxies elsewhere)', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dispatch-gateway-'));
    const relative = (to: string) => path.relative(dir, path.join(K8S_DIR, to));
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dispatch-gateway\n  annotations:\n    config.kubernetes.io/local-config: "true"\n' +
        'data:\n  name: public\n  namespace: infra-gateways\n  proxyNamespace: envoy-gateway-system\n',
    );
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: dispatch\nresources:\n  - ${relative('base')}\n  - gateway.yaml\n` +
        `components:\n  - ${relative('components/network-policy')}\n  - ${relative('components/gateway')}\n`,
    );
    try {
      objects = renderKustomization(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every HTTPRoute's parentRef and every API policy's source follow the ConfigMap", () => {
    for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
      expect((route.spec as { parentRefs: unknown }).parentRefs).toEqual([
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra-gateways' },
      ]);
    }
    for (const s of SERVICE_CONFIGS) {
      const policy = findObject(objects, 'NetworkPolicy', s.name)!;
      const from = (policy.spec as { ingress: { from: { namespaceSelector: { matchLabels: unknown } }[] }[] })
        .ingress[0]!.from;
      expect(from.map((f) => f.namespaceSelector.matchLabels)).toEqual([
        { 'kubernetes.io/metadata.name': 'envoy-gateway-system' },
        { 'kubernetes.io/metadata.name': 'monitoring' },
      ]);
    }
    // Only the six API policies carry the label the replacement selects.
    expect(
      objects
        .filter(
          (o) => o.kind === 'NetworkPolicy' && o.metadata.labels?.['app.kubernetes.io/component'] === 'api',
        )
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(SERVICE_CONFIGS.map((s) => s.name).sort());
    expect(findObject(objects, 'ConfigMap', 'dispatch-gateway')).toBeUndefined();
  });
});

describe('the HTTPRoute checks (no Gateway API schema is vendored)', () => {
  let objects: KubeObject[];
  let route: KubeObject;
  beforeAll(() => {
    objects = renderKustomization(path.join(K8S_DIR, 'overlays/dev'));
    route = findObject(objects, 'HTTPRoute', 'dispatch-api')!;
  });

  test('HTTPRoute is checked structurally, not refused for want of a schema', () => {
    expect(validator.structuralTypes()).toEqual(['gateway.networking.k8s.io/v1 HTTPRoute']);
  });

  test('the shape check catches unknown fields, bad enums, hostnames, durations and a missing port', () => {
    const broken = structuredClone(route) as KubeObject & { spec: Record<string, unknown> };
    broken.spec.parentRef = broken.spec.parentRefs;
    broken.spec.hostnames = ['API.example.com:443'];
    broken.spec.rules = [
      { matches: [{ path: { type: 'Prefix', value: 'api' } }], backendRefs: [{ name: 'order-service' }] },
      { matches: [{ method: 'FETCH' }], backendRef: [], timeouts: { request: '1 hour' } },
    ];
    expect(httpRouteShapeProblems(broken)).toEqual([
      '/spec: unknown field "parentRef"',
      '/spec/hostnames/0: "API.example.com:443" is no hostname',
      '/spec/rules/0/matches/0/path/type: one of Exact, PathPrefix, RegularExpression',
      '/spec/rules/0/matches/0/path/value: must start with /',
      '/spec/rules/0/backendRefs/0/port: required for a Service',
      '/spec/rules/1: unknown field "backendRef"',
      '/spec/rules/1/matches/0/method: one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH',
      '/spec/rules/1/timeouts/request: a Gateway API duration (e.g. 30s, 1h)',
    ]);
    delete broken.spec.parentRefs;
    expect(httpRouteShapeProblems(broken)).toContain('/spec/parentRefs: required');
  });

  test('the reference check catches a missing Service, a wrong port, and /metrics or /health routed', () => {
    const broken = structuredClone(route) as KubeObject & { spec: { rules: unknown[] } };
    broken.spec.rules = [
      { matches: [{ path: { value: '/api/orders' } }], backendRefs: [{ name: 'orders', port: 8081 }] },
      {
        matches: [{ path: { value: '/api/payments' } }],
        backendRefs: [{ name: 'payment-service', port: 80 }],
      },
      {
        matches: [{ path: { type: 'Exact', value: '/metrics' } }],
        backendRefs: [{ name: 'query-api', port: 8080 }],
      },
      { backendRefs: [{ name: 'query-api', port: 8080 }] },
    ];
    expect(httpRouteReferenceProblems(broken, objects)).toEqual([
      '/spec/rules/0: backend Service orders does not exist',
      '/spec/rules/1: Service payment-service has no port 80 (it has 8082)',
      '/spec/rules/2: routes /metrics publicly (Exact /metrics)',
      '/spec/rules/3: routes /metrics publicly (PathPrefix /)',
      '/spec/rules/3: routes /health publicly (PathPrefix /)',
      '/spec/rules/3: routes /health/live publicly (PathPrefix /)',
      '/spec/rules/3: routes /health/ready publicly (PathPrefix /)',
    ]);
  });

  test.each([
    [{ path: { type: 'PathPrefix' as const, value: '/api/orders' } }, '/api/orders/1/events', true],
    [{ path: { type: 'PathPrefix' as const, value: '/api/orders' } }, '/api/ordersx', false],
    [{ path: { type: 'PathPrefix' as const, value: '/health/' } }, '/health', true],
    [{ path: { type: 'Exact' as const, value: '/health' } }, '/health/live', false],
    [{ path: { type: 'RegularExpression' as const, value: '/(metrics|health.*)' } }, '/health/ready', true],
    [{}, '/metrics', true],
  ])('match %j on %s: %s', (match, requestPath, expected) => {
    expect(matchesPath(match, requestPath)).toBe(expected);
  });
});

describe('k8s/examples/ingress.yaml (clusters without Gateway API; in no overlay)', () => {
  const file = path.join(K8S_DIR, 'examples', 'ingress.yaml');
  let ingresses: KubeObject[];
  let objects: KubeObject[];
  beforeAll(() => {
    ingresses = parseManifests(readFileSync(file, 'utf8'));
    objects = renderKustomization(path.join(K8S_DIR, 'overlays/dev'));
  });

  test('valid Ingresses in the dispatch namespace, no controller-specific class or annotation', () => {
    expect(ingresses.map((i) => `${i.kind} ${i.metadata.name}`)).toEqual([
      'Ingress dispatch-api',
      'Ingress dispatch-query',
    ]);
    for (const ingress of ingresses) {
      expect(validator.validate(ingress)).toEqual([]);
      expect(ingress.metadata.namespace).toBe('dispatch');
      expect(ingress.metadata.annotations).toBeUndefined();
      expect((ingress.spec as { ingressClassName?: string }).ingressClassName).toBeUndefined();
    }
  });

  test('the same routes as the HTTPRoutes, to Services and ports that exist', () => {
    const routes: string[] = [];
    for (const ingress of ingresses) {
      const rules = (
        ingress.spec as {
          rules: {
            host: string;
            http: {
              paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[];
            };
          }[];
        }
      ).rules;
      for (const rule of rules) {
        for (const p of rule.http.paths) {
          const service = findObject(objects, 'Service', p.backend.service.name);
          const port = (service?.spec as { ports: { name: string; port: number }[] } | undefined)?.ports.find(
            (x) => x.name === p.backend.service.port.name,
          );
          expect(
            `${p.backend.service.name}:${p.backend.service.port.name} exists: ${port !== undefined}`,
          ).toBe(`${p.backend.service.name}:${p.backend.service.port.name} exists: true`);
          routes.push(`${rule.host.split('.')[0]} * ${p.path} → ${p.backend.service.name}:${port?.port}`);
        }
      }
    }
    expect(routes.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  test('no overlay includes it', () => {
    for (const dir of ['base', 'overlays/dev', 'overlays/prod']) {
      expect(readFileSync(path.join(K8S_DIR, dir, 'kustomization.yaml'), 'utf8')).not.toMatch(
        /ingress|examples/,
      );
    }
  });
});
