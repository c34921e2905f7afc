/**
 * pnpm exec tsx tools/deploy-check/src/cli.ts <command>
 *   prometheus-rule     regenerate k8s/components/monitoring/prometheusrule.yaml from dashboards/alerts.yml
 *   kafka-acls          regenerate k8s/base/kafka/access.sh (Kafka logins and ACLs) from tools/stack/kafka-acls.ts
 *   render <dir>        print what `kubectl apply -k <dir>` would send, after checking it against the schemas
 * The checks themselves are jest tests: pnpm exec jest --selectProjects unit tools/deploy-check
 */
import path from 'node:path';
import { stringify } from 'yaml';
import { writeKafkaAccessScript } from './kafka-access';
import { KubernetesValidator } from './kubernetes-schemas';
import { renderKustomization } from './kustomize';
import { writePrometheusRule } from './prometheus-rule';

function main(argv: string[]): number {
  const [command, arg] = argv;
  if (command === 'prometheus-rule') {
    process.stdout.write(`wrote ${writePrometheusRule()}\n`);
    return 0;
  }
  if (command === 'kafka-acls') {
    process.stdout.write(`wrote ${writeKafkaAccessScript()}\n`);
    return 0;
  }
  if (command === 'render' && arg) {
    const objects = renderKustomization(path.resolve(arg));
    const validator = new KubernetesValidator();
    const problems = objects.flatMap((o) =>
      validator.validate(o).map((p) => `${o.kind} ${o.metadata.name}${p}`),
    );
    if (problems.length > 0) {
      process.stderr.write(`${problems.join('\n')}\n`);
      return 1;
    }
    process.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
    return 0;
  }
  process.stderr.write('usage: cli.ts prometheus-rule | kafka-acls | render <kustomization dir>\n');
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
