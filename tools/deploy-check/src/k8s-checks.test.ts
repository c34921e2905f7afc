import {
  type Container,
  probeProblems,
  resolveEnv,
  securityProblems,
  valueSources,
  type Workload,
} from './k8s-checks';
import type { KubeObject } from './kubernetes-schemas';

const secret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's' },
  data: { A: Buffer.from('from-data').toString('base64') },
  stringData: { B: 'from-stringData' },
};
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c' },
  data: { C: 'plain' },
};

describe('resolveEnv', () => {
  const sources = valueSources([secret, configMap]);

  test('combines envFrom, literal values and Secret/ConfigMap keys', () => {
    const container: Container = {
      name: 'x',
      envFrom: [{ configMapRef: { name: 'c' } }],
      env: [
        { name: 'LIT', value: '1' },
        { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'A' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'B' } } },
      ],
    };
    expect(resolveEnv(container, sources)).toEqual({
      env: { C: 'plain', LIT: '1', A: 'from-data', B: 'from-stringData' },
      problems: [],
    });
  });

  test('an optional reference to a missing Secret or key leaves the variable unset, without a problem', () => {
    const container: Container = {
      name: 'x',
      env: [
        { name: 'GONE', valueFrom: { secretKeyRef: { name: 'nope', key: 'A', optional: true } } },
        { name: 'NOKEY', valueFrom: { secretKeyRef: { name: 's', key: 'MISSING', optional: true } } },
        { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'A', optional: true } } },
      ],
    };
    expect(resolveEnv(container, sources)).toEqual({ env: { A: 'from-data' }, problems: [] });
  });

  test('names every reference that would leave a pod in CreateContainerConfigError', () => {
    const container: Container = {
      name: 'x',
      envFrom: [{ secretRef: { name: 'nope' } }],
      env: [
        { name: 'K', valueFrom: { secretKeyRef: { name: 's', key: 'MISSING' } } },
        { name: 'M', valueFrom: { configMapKeyRef: { name: 'gone', key: 'C' } } },
      ],
    };
    expect(resolveEnv(container, sources).problems).toEqual([
      'envFrom: Secret nope does not exist',
      'K: Secret s has no key MISSING',
      'M: ConfigMap gone does not exist',
    ]);
  });
});

describe('securityProblems and probeProblems', () => {
  const container: Container = {
    name: 'app',
    ports: [{ name: 'http', containerPort: 8081 }],
    livenessProbe: { httpGet: { path: '/health', port: 'http' } },
    readinessProbe: { httpGet: { path: '/health/ready', port: 9999 } },
    resources: { requests: { cpu: '100m' } },
    securityContext: { capabilities: { drop: ['NET_RAW'] } },
  };
  const workload: Workload = {
    kind: 'Deployment',
    name: 'app',
    labels: {},
    pod: { containers: [container] },
  };

  test('report each missing hardening setting', () => {
    expect(securityProblems(workload, { readOnlyRoot: true })).toEqual([
      'Deployment app: mounts a service account token',
      'Deployment app container app: runAsNonRoot is not true',
      'Deployment app container app: allowPrivilegeEscalation is not false',
      'Deployment app container app: does not drop ALL capabilities',
      'Deployment app container app: seccomp profile is not RuntimeDefault',
      'Deployment app container app: root filesystem is writable',
      'Deployment app container app: no emptyDir at /tmp (Node and the libraries need a writable temp folder)',
      'Deployment app container app: no cpu/memory requests',
      'Deployment app container app: no memory limit',
    ]);
  });

  test('report probes on wrong paths or ports', () => {
    expect(probeProblems(container, 8081)).toEqual([
      'app: no HTTP startupProbe',
      'app: livenessProbe asks /health, not /health/live',
      'app: readinessProbe asks port 9999 (9999), the service listens on 8081',
    ]);
  });
});
