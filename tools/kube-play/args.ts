import { readFlags, wholeNumberFlag } from '../cli/flags';

export interface KubePlayArgs {
  overlay: string;
  /** Added to each Deployment's port: 8081 → 28081. */
  portOffset: number;
  /** Seconds for every pod to answer its readiness probe. */
  readyTimeout: number;
  /** Seconds for the order to reach DELIVERED. */
  orderTimeout: number;
  /** Only remove what an earlier run left (pods, podman secrets). */
  down: boolean;
  /** Also play each Job's pod template as a Pod, against the stack, and wait for each to exit 0. */
  jobs: boolean;
}

export class KubePlayUsageError extends Error {}

export const KUBE_PLAY_USAGE = `Usage: ./dispatch kube-play [--jobs] [--overlay k8s/overlays/dev] [--port-offset 20000]
                           [--ready-timeout 300] [--order-timeout 180] | --down

Renders the overlay (kubectl kustomize), checks it against the Kubernetes schemas, and plays what
podman plays (the Deployments, the ConfigMaps and Secrets they read) with podman kube play, against
the running local stack (./dispatch up): host network, each pod on its port + the offset, the
stack's addresses and the services' own logins as Secrets made at run time (never written to the
repository). Waits for every pod's probes, places an order through the played order-service, reads it
from the played query-api until DELIVERED, then stops the pods (SIGTERM), runs podman kube down and
removes the secrets, also on failure. Needs root (rootful podman) and the images of ./dispatch images.

  --jobs           also run each Job's pod template once as a Pod (topics, Kafka logins and ACLs,
                   PostgreSQL and Cassandra roles) against the stack, with the server images
                   ./dispatch images builds and the stack's admin logins; each must exit 0.
                   Idempotent, the same state ./dispatch up provisions; about 2-3 min more
  --overlay        the kustomization to render (default: k8s/overlays/dev)
  --port-offset    added to each service's port (default: 20000, so 28080-28085)
  --ready-timeout  seconds for every pod to become ready (default: 300)
  --order-timeout  seconds for the order to reach DELIVERED (default: 180)
  --down           only remove what an earlier, interrupted run left behind
`;

export function parseKubePlayArgs(argv: string[]): KubePlayArgs | undefined {
  const down = argv.includes('--down');
  const jobs = argv.includes('--jobs');
  const flags = readFlags(
    argv.filter((arg) => arg !== '--down' && arg !== '--jobs'),
    ['overlay', 'port-offset', 'ready-timeout', 'order-timeout'],
    (message) => new KubePlayUsageError(message),
  );
  if (flags === undefined) return undefined;
  const error = (message: string) => new KubePlayUsageError(message);
  return {
    overlay: flags.overlay ?? 'k8s/overlays/dev',
    portOffset: wholeNumberFlag(
      'port-offset',
      flags['port-offset'] ?? '20000',
      { min: 1, max: 50_000 },
      error,
    ),
    readyTimeout: wholeNumberFlag(
      'ready-timeout',
      flags['ready-timeout'] ?? '300',
      { min: 10, max: 3_600 },
      error,
    ),
    orderTimeout: wholeNumberFlag(
      'order-timeout',
      flags['order-timeout'] ?? '180',
      { min: 10, max: 3_600 },
      error,
    ),
    down,
    jobs,
  };
}
