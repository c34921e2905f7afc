/**
 * `./dispatch kube-play`: the dev overlay's Deployments played with `podman kube play` against the
 * running local stack, up to an order DELIVERED through the played pods. See KUBE_PLAY_USAGE and
 * docs/deploy.md "Kubernetes manifests played with podman".
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { KubernetesValidator } from '../deploy-check/src/kubernetes-schemas';
import {
  KustomizeRenderError,
  KustomizeUnavailableError,
  renderKustomization,
} from '../deploy-check/src/kustomize';
import { loadStackConfig } from '../stack/config';
import { REPO_ROOT } from '../stack/paths';
import { KUBE_PLAY_USAGE, type KubePlayArgs, KubePlayUsageError, parseKubePlayArgs } from './args';
import { countByKind, ManifestError, type PlayPlan, planPlay, podmanSecretData } from './manifests';
import { type PlayedUrls, placeOrderThroughPods, retireDriver } from './order';
import {
  checkPodman,
  containerLogs,
  containerName,
  containerState,
  createSecret,
  imageExists,
  KubePlayError,
  kubeDown,
  kubePlay,
  log,
  memory,
  podExists,
  podName,
  removePods,
  removeSecrets,
  secretExists,
  stopPods,
} from './podman';
import { portIsFree, waitForJobs, waitForPods } from './readiness';
import { StackValuesError, stackValues } from './stack-values';

const WORK_DIR = path.join(REPO_ROOT, '.stack', 'kube-play');
const PLAY_FILE = path.join(WORK_DIR, 'play.yaml');
const DOWN_FILE = path.join(WORK_DIR, 'down.yaml');
/** What a run made, so that `--down` (or the next run's message) can remove it after an interruption. */
const STATE_FILE = path.join(WORK_DIR, 'state.json');

interface RunState {
  pods: string[];
  /** The service containers, whose logs are kept in LOG_DIR before the pods go. */
  containers: string[];
  secrets: string[];
}

const LOG_DIR = path.join(WORK_DIR, 'logs');

/**
 * --jobs: the official server images the Jobs name, and what stands in for each here (no registry):
 * the images tools/images/servers/build.sh builds from the local stack's jars and Debian's packages.
 */
const LOCAL_SERVER_IMAGES: Record<string, string> = {
  'apache/kafka:4.3.1': 'localhost/dispatch/kafka:4.3.1',
  'postgres:15': 'localhost/dispatch/postgres:15',
  'cassandra:5.0': 'localhost/dispatch/cassandra:5.0.9',
};

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

/** Stops and removes what a run made; idempotent, never throws. Returns what it did, one line each. */
function cleanup(state: RunState): string[] {
  const done: string[] = [];
  const kept = state.containers.filter((name) => containerState(name) !== undefined);
  if (kept.length > 0) {
    mkdirSync(LOG_DIR, { recursive: true });
    for (const name of kept)
      writeFileSync(path.join(LOG_DIR, `${name}.log`), `${containerLogs(name, 100_000)}\n`);
    done.push(`logs of ${kept.length} containers kept in ${path.relative(REPO_ROOT, LOG_DIR)}/`);
  }
  if (existsSync(DOWN_FILE) && state.pods.some(podExists)) {
    const result = kubeDown(DOWN_FILE);
    done.push(`podman kube down ${path.relative(REPO_ROOT, DOWN_FILE)}: ${result}`);
  }
  const left = state.pods.filter(podExists);
  if (left.length > 0) {
    removePods(left);
    done.push(
      `podman pod rm --force ${left.join(' ')} (kube down left them): ${left.filter(podExists).length === 0 ? 'removed' : 'FAILED'}`,
    );
  }
  const removed = removeSecrets(state.secrets);
  done.push(`podman secrets removed: ${removed.length} of ${state.secrets.length}`);
  rmSync(STATE_FILE, { force: true });
  return done;
}

function readState(): RunState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as RunState;
}

function render(args: KubePlayArgs): PlayPlan {
  const overlay = path.resolve(REPO_ROOT, args.overlay);
  const started = performance.now();
  const rendered = renderKustomization(overlay);
  const validator = new KubernetesValidator();
  const problems = rendered.flatMap((o) =>
    validator.validate(o).map((p) => `${o.kind} ${o.metadata.name}${p}`),
  );
  if (problems.length > 0) throw new KubePlayError(`the overlay fails its schemas:\n${problems.join('\n')}`);
  log(
    `rendered ${path.relative(REPO_ROOT, overlay)}: ${rendered.length} objects (${countByKind(rendered)}), all valid against the schemas (${seconds(started)} s)`,
  );
  const plan = planPlay(rendered, {
    portOffset: args.portOffset,
    registry: 'localhost',
    ...stackValues(loadStackConfig(), { jobs: args.jobs }),
    ...(args.jobs ? { jobImages: LOCAL_SERVER_IMAGES } : {}),
  });
  log(
    `playing ${countByKind([...plan.secrets, ...plan.played])} (the Secrets made from the local stack at run time, as podman secrets)`,
  );
  const byKind = new Map<string, { names: string[]; reason: string }>();
  for (const item of plan.leftOut) {
    const key = `${item.kind}: ${item.reason}`;
    const entry = byKind.get(key) ?? { names: [], reason: item.reason };
    entry.names.push(item.name);
    byKind.set(key, entry);
  }
  log(`left out (schema-checked above, not played):`);
  for (const [key, entry] of byKind)
    log(`  ${entry.names.length} ${key.split(':')[0]} (${entry.names.join(', ')}): ${entry.reason}`);
  return plan;
}

async function preflight(plan: PlayPlan): Promise<void> {
  const earlier = readState();
  const leftovers = [
    ...[...plan.targets.map((t) => podName(t.deployment)), ...plan.jobs.map((j) => j.pod)].filter(podExists),
    ...plan.secrets.map((s) => s.metadata.name).filter(secretExists),
  ];
  if (earlier || leftovers.length > 0) {
    throw new KubePlayError(
      `an earlier run left ${leftovers.length > 0 ? leftovers.join(', ') : STATE_FILE}: remove it with ./dispatch kube-play --down`,
    );
  }
  const images = [...new Set(plan.played.flatMap(imagesOf))];
  const missing = images.filter((image) => !imageExists(image));
  if (missing.length > 0)
    throw new KubePlayError(`no image ${missing.join(', ')}: build them with ./dispatch images`);
  for (const target of plan.targets) {
    if (!(await portIsFree(target.port))) {
      throw new KubePlayError(
        `port ${target.port} (${target.deployment}) is in use: pick another --port-offset`,
      );
    }
  }
}

function imagesOf(object: PlayPlan['played'][number]): string[] {
  type Pod = { containers: { image?: string }[] };
  if (object.kind !== 'Deployment' && object.kind !== 'Pod') return [];
  const pod =
    object.kind === 'Pod' ? (object.spec as Pod) : (object.spec as { template: { spec: Pod } }).template.spec;
  return pod.containers.flatMap((c) => (c.image ? [c.image] : []));
}

function urls(plan: PlayPlan): PlayedUrls {
  const port = (deployment: string) => {
    const target = plan.targets.find((t) => t.deployment === deployment);
    if (!target) throw new KubePlayError(`the overlay has no Deployment ${deployment}`);
    return `http://127.0.0.1:${target.port}`;
  };
  return {
    orderService: port('order-service'),
    queryApi: port('query-api'),
    inventoryService: port('inventory-service'),
    deliveryService: port('delivery-service'),
  };
}

async function play(args: KubePlayArgs): Promise<void> {
  const total = performance.now();
  log(`podman ${checkPodman()}`);
  const plan = render(args);
  await preflight(plan);

  mkdirSync(WORK_DIR, { recursive: true });
  rmSync(LOG_DIR, { recursive: true, force: true });
  // No secret in either file: the Secrets go to podman on stdin.
  writeFileSync(PLAY_FILE, plan.played.map((o) => stringify(o)).join('---\n'));
  writeFileSync(
    DOWN_FILE,
    plan.played
      .filter((o) => o.kind === 'Deployment' || o.kind === 'Pod')
      .map((o) => stringify(o))
      .join('---\n'),
  );
  const state: RunState = {
    pods: [...plan.jobs.map((j) => j.pod), ...plan.targets.map((t) => podName(t.deployment))],
    containers: [
      ...plan.jobs.flatMap((j) => j.containers),
      ...plan.targets.map((t) => containerName(t.deployment, t.container)),
    ],
    secrets: plan.secrets.map((s) => s.metadata.name),
  };
  writeFileSync(STATE_FILE, `${JSON.stringify(state)}\n`);
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    for (const line of cleanup(state)) log(`  ${line}`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let stage = performance.now();
  let orderId = '';
  try {
    for (const secret of plan.secrets) createSecret(secret.metadata.name, podmanSecretData(secret), WORK_DIR);
    kubePlay(PLAY_FILE);
    log(
      `podman kube play ${path.relative(REPO_ROOT, PLAY_FILE)}: ${state.pods.length} pods started (${seconds(stage)} s); waiting for their probes (at most ${args.readyTimeout} s)`,
    );
    stage = performance.now();
    if (plan.jobs.length > 0) {
      log(
        `  the ${plan.jobs.length} Jobs run as Pods next to the Deployments, as in a cluster; waiting for them first`,
      );
      await waitForJobs(plan.jobs, stage, args.readyTimeout);
      log(`all ${plan.jobs.length} Jobs exited 0 after ${seconds(stage)} s`);
    }
    const ready = await waitForPods(plan.targets, stage, args.readyTimeout);
    log(`all ${ready.size} service pods ready after ${seconds(stage)} s`);

    stage = performance.now();
    const played = urls(plan);
    log(
      `an order through the played pods (order-service ${played.orderService}, query-api ${played.queryApi})`,
    );
    const outcome = await placeOrderThroughPods(played, args.orderTimeout * 1000);
    orderId = outcome.orderId;
    await retireDriver(played);
    log(
      `order ${outcome.orderId} DELIVERED ${outcome.seen.at(-1)!.afterSeconds} s after the 201 (completed: ${outcome.completedBy}; ${seconds(stage)} s with the set-up)`,
    );

    const usage = plan.targets.map((t) => {
      const m = memory(containerName(t.deployment, t.container));
      return m ? `${t.deployment} ${m.usedMiB.toFixed(0)}/${m.limitMiB.toFixed(0)}` : `${t.deployment} ?`;
    });
    log(
      `memory in MiB, used/limit (the limit is resources.limits.memory, as podman set it): ${usage.join(', ')}`,
    );

    stage = performance.now();
    stopPods(
      plan.targets.map((t) => podName(t.deployment)),
      40,
    );
    const exits = plan.targets.map((t) => {
      const s = containerState(containerName(t.deployment, t.container));
      return { deployment: t.deployment, exitCode: s?.exitCode ?? -1 };
    });
    const unclean = exits.filter((e) => e.exitCode !== 0);
    if (unclean.length > 0) {
      throw new KubePlayError(
        `SIGTERM did not end in a clean drain: ${unclean.map((e) => `${e.deployment} exited ${e.exitCode}`).join(', ')}`,
      );
    }
    log(
      `podman pod stop (SIGTERM, 40 s grace as terminationGracePeriodSeconds): every container drained and exited 0 (${seconds(stage)} s)`,
    );
  } finally {
    stage = performance.now();
    for (const line of cleanup(state)) log(`  ${line}`);
    log(`cleaned up (${seconds(stage)} s)`);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  log(
    `pods whose logs name the order: ${handledBy(orderId)} (each shares its consumer group with the local stack's instance, which has the other partitions)`,
  );
  log(`passed in ${seconds(total)} s`);
}

/** Which played pods logged the order (their consumer had its partition), from the logs cleanup kept. */
function handledBy(orderId: string): string {
  if (!existsSync(LOG_DIR)) return 'no logs kept';
  const pods = readdirSync(LOG_DIR)
    .filter((file) => readFileSync(path.join(LOG_DIR, file), 'utf8').includes(orderId))
    .map((file) => file.replace(/-pod-0-.*$/, ''));
  return pods.length > 0 ? pods.join(', ') : 'none';
}

async function main(argv: string[]): Promise<number> {
  const args = parseKubePlayArgs(argv);
  if (!args) {
    process.stdout.write(KUBE_PLAY_USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0)
    throw new KubePlayError('needs root: it runs rootful podman (as ./dispatch images does)');
  if (args.down) {
    const state = readState();
    if (!state) {
      log('nothing to remove (no earlier run recorded)');
      return 0;
    }
    for (const line of cleanup(state)) log(line);
    return 0;
  }
  await play(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof KubePlayUsageError) {
      process.stderr.write(`kube-play: ${err.message}\n\n${KUBE_PLAY_USAGE}`);
      process.exit(2);
    }
    // Ours and the renderer's errors say what is wrong; anything else also shows where.
    const known = [
      KubePlayError,
      ManifestError,
      StackValuesError,
      KustomizeRenderError,
      KustomizeUnavailableError,
    ];
    const message = known.some((type) => err instanceof type)
      ? (err as Error).message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
    process.stderr.write(`kube-play: FAILED: ${message}\n`);
    process.exit(1);
  },
);
