import type { ReplayResult } from './commands';

const LABEL: Record<ReplayResult['outcome'], string> = {
  replayed: 'replayed',
  'would-replay': 'would replay',
  refused: 'REFUSED',
};

/** The per-dead-letter report of a replay, then a count of each outcome. Pure. */
export function formatReplayResults(results: ReplayResult[], dryRun: boolean): string {
  const width = Math.max(0, ...results.map((r) => LABEL[r.outcome].length));
  const lines = results.map(
    (r) =>
      `${LABEL[r.outcome].padEnd(width)}  ${r.partition}:${r.offset}  ${r.eventType ?? '(unparseable)'} ${r.orderId ?? ''}\n` +
      `    ${r.outcome === 'refused' ? 'refused: ' : 'published: '}${r.detail}\n`,
  );
  const replayed = results.filter((r) => r.outcome !== 'refused').length;
  const refused = results.length - replayed;
  lines.push(`${dryRun ? 'would replay' : 'replayed'} ${replayed}, refused ${refused} dead letter(s)\n`);
  return lines.join('');
}
