import { formatSeconds } from './render';

/**
 * Progress lines for long steps: one line when a step starts, a "still ..." line every
 * `tickMs` while it runs, and one line with the elapsed time when it ends.
 */
export interface StepOptions {
  tickMs?: number;
}

export function info(message: string): void {
  process.stdout.write(`${message}\n`);
}

export async function step<T>(label: string, fn: () => Promise<T>, opts: StepOptions = {}): Promise<T> {
  const started = Date.now();
  info(`→ ${label} ...`);
  const ticker = setInterval(
    () => info(`  … ${label} (${formatSeconds(Date.now() - started)})`),
    opts.tickMs ?? 10_000,
  );
  try {
    const result = await fn();
    info(`✓ ${label} (${formatSeconds(Date.now() - started)})`);
    return result;
  } catch (err) {
    info(`✗ ${label} (${formatSeconds(Date.now() - started)})`);
    throw err;
  } finally {
    clearInterval(ticker);
  }
}
