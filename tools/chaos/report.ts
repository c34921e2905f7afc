import type { ChaosResult } from './run';

/** The run's outcome for a terminal. */
export function renderChaosReport(result: ChaosResult): string {
  const lines = [
    `${result.kills.length} kills: ${result.kills.map((k) => `${k.victim} (back in ${(k.recoveryMs / 1000).toFixed(1)} s)`).join(', ') || 'none'}`,
    `${result.accepted} orders accepted, ${result.delivered} delivered; ${result.clientRetries} client retries`,
  ];
  if (result.violations.length === 0) {
    lines.push('every invariant held: each order delivered, charged once, stock exact');
  } else {
    lines.push(`${result.violations.length} violations:`, ...result.violations.map((v) => `  ${v}`));
  }
  return `${lines.join('\n')}\n`;
}
