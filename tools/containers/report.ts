import { formatSeconds } from '../images/report';

/** One step of the containers test, as its report shows it. */
export interface Check {
  name: string;
  ok: boolean;
  /** How long the step took. */
  seconds: number;
  /** What was seen (or why it failed). */
  detail: string;
}

/**
 * The report the containers test ends with: one line per step (✔/✘, its time, what was seen), the
 * total time, then `containers: N passed, N failed`. A run that could not start says why, and counts
 * as one failure: it never passes without running. Pure.
 */
export function formatReport(checks: Check[], totalSeconds: number, notRun?: string): string {
  const lines: string[] = [];
  if (notRun !== undefined) lines.push(`NOT RUN: ${notRun}`);
  const width = Math.max(0, ...checks.map((check) => check.name.length));
  for (const check of checks) {
    const time = formatSeconds(check.seconds).padStart(10);
    lines.push(`${check.ok ? '✔' : '✘'} ${check.name.padEnd(width)}  ${time}  ${check.detail}`.trimEnd());
  }
  lines.push(`total time: ${formatSeconds(totalSeconds)}`);
  const passed = checks.filter((check) => check.ok).length;
  const failed = checks.length - passed + (notRun !== undefined ? 1 : 0);
  lines.push(`containers: ${passed} passed, ${failed} failed`);
  return `${lines.join('\n')}\n`;
}
