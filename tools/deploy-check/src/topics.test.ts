import { readFileSync } from 'node:fs';
import { CONSUMING_SERVICES, RAW_TOPICS } from '@dispatch/contracts';
import { COMPOSE_FILE, repoPath } from './paths';

/**
 * compose's kafka-init and the k8s topics Job create the topics with a shell loop each; the topic
 * catalogue is the contracts' (RAW_TOPICS, one dlq.<service> per CONSUMING_SERVICES entry), which the
 * launcher provisions from directly. These checks fail when either loop drifts from it.
 */
function loops(file: string): { raw: string[]; dlqServices: string[]; rawConfig: string } {
  const text = readFileSync(file, 'utf8');
  const raw = /for t in ([^;]+); do\n([^\n]*\n[^\n]*)/.exec(text);
  const dlq = /for s in ([^;]+); do\n[^\n]*"dlq\.\$\$?s"/.exec(text);
  if (!raw?.[1] || !raw[2] || !dlq?.[1]) throw new Error(`${file}: no topic loops found`);
  return { raw: raw[1].trim().split(/\s+/), dlqServices: dlq[1].trim().split(/\s+/), rawConfig: raw[2] };
}

describe.each([
  ['docker-compose.yml (kafka-init)', COMPOSE_FILE],
  ['k8s/base/topics-job.yaml', repoPath('k8s', 'base', 'topics-job.yaml')],
])('%s', (_name, file) => {
  const found = loops(file);

  it('creates exactly the raw topics of the contracts, with unlimited retention', () => {
    expect([...found.raw].sort()).toEqual([...RAW_TOPICS].sort());
    expect(found.rawConfig).toContain('--config retention.ms=-1');
  });

  it('creates one dlq.<service> for each consuming service of the contracts', () => {
    expect([...found.dlqServices].sort()).toEqual([...CONSUMING_SERVICES].sort());
  });
});

describe('the loop parser', () => {
  it('notices a missing loop', () => {
    expect(() => loops(repoPath('Dockerfile'))).toThrow(/no topic loops/);
  });
});
