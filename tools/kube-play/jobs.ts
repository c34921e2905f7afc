/**
 * `--jobs`: each Job's pod template played as a Pod (podman kube play has no Job kind), on the host
 * network, run once (restartPolicy Never: a failure is reported, not retried as backoffLimit would), with
 * the images built here in place of the official server images (tools/images/servers/build.sh).
 */
import type { KubeObject } from '../deploy-check/src/kubernetes-schemas';
import { ManifestError } from './errors';
import type { PodTemplate } from './manifests';

export interface JobTarget {
  job: string;
  /** The played Pod's name (the Job's). */
  pod: string;
  containers: string[];
}

export function jobPod(
  job: KubeObject,
  images: Record<string, string>,
): { pod: KubeObject; target: JobTarget } {
  const template = (
    job.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: PodTemplate } }
  ).template;
  const spec = structuredClone(template.spec) as PodTemplate & { restartPolicy?: string };
  spec.hostNetwork = true;
  spec.restartPolicy = 'Never';
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const local = container.image === undefined ? undefined : images[container.image];
    if (!local) {
      throw new ManifestError(
        `Job ${job.metadata.name} container ${container.name}: no local image for ${container.image}`,
      );
    }
    container.image = local;
    (container as { imagePullPolicy?: string }).imagePullPolicy = 'Never';
    delete container.ports;
  }
  const name = job.metadata.name;
  return {
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { ...(template.metadata?.labels ?? {}) } },
      spec,
    },
    target: { job: name, pod: name, containers: spec.containers.map((c) => `${name}-${c.name}`) },
  };
}
