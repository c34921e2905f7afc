import type { RunningService } from './service';
import { shutdownTracing } from './tracing-context';

/**
 * A service's main: start it, then let SIGTERM/SIGINT run its graceful shutdown. A start failure
 * (database unreachable, bad migration, an unreadable JWKS file, ...) is printed and exits 1; bad configuration already
 * exited 78 in loadConfig.
 */
export function runMain(name: string, start: () => Promise<RunningService>): void {
  // A start that throws before its first await (a bad AUTH_JWKS_FILE, say) is reported the same way.
  new Promise<RunningService>((resolve) => resolve(start())).then(
    (running) => {
      // Spans are flushed last, after every step that could still produce one.
      running.ctx.shutdown.register('flush traces', shutdownTracing);
      running.ctx.shutdown.installSignalHandlers();
    },
    (err: unknown) => {
      const reason = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${name} failed to start: ${reason}\n`);
      process.exit(1);
    },
  );
}
