import type { ChaosResult } from './run';

/** The run's outcome for a terminal. */
export function renderChaosReport(result: ChaosResult): string {
  const lines = [
    `${result.disruptions.length} disruptions: ${result.disruptions.map((d) => `${d.what} (recovered in ${(d.recoveryMs / 1000).toFixed(1)} s)`).join(', ') || 'none'}`,
    `${result.accepted} orders accepted, ${result.delivered} delivered; ${result.clientRetries} client retries`,
  ];
  if (result.violations.length === 0) {
    lines.push(
      'every invariant held: each order delivered, charged once, its read model the fold of its events; stock exact; nothing in any DLQ but the poison',
    );
  } else {
    lines.push(`${result.violations.length} violations:`, ...result.violations.map((v) => `  ${v}`));
  }
  return `${lines.join('\n')}\n`;
}
