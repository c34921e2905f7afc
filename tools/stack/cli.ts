import { parseArgs, USAGE } from './args';
import { down } from './commands/down';
import { logs } from './commands/logs';
import { instance, restart } from './commands/services';
import { status } from './commands/status';
import { up } from './commands/up';
import { loadStackConfig } from './config';
import { StackError, UsageError } from './errors';
import { stackPaths } from './paths';
import { renderEnvFile } from './render';
import { stackEnvVars } from './services';

/** `pnpm stack <command>`: the local Dispatch stack (see docs/local-stack.md). */
async function main(argv: string[]): Promise<number> {
  const command = parseArgs(argv);
  const paths = stackPaths();
  switch (command.name) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'up':
      await up(loadStackConfig(), paths, {
        infraOnly: command.infraOnly,
        withPrometheus: command.withPrometheus === true,
      });
      return 0;
    case 'down':
      await down(paths, { servicesOnly: command.servicesOnly });
      return process.exitCode === 1 ? 1 : 0;
    case 'restart':
      await restart(command.service, loadStackConfig(), paths);
      return 0;
    case 'instance':
      await instance(command.service, command.port, loadStackConfig(), paths);
      return 0;
    case 'status':
      return (await status(loadStackConfig(), paths)) ? 0 : 1;
    case 'logs':
      await logs(command.target, command.lines, command.follow, paths);
      return 0;
    case 'env':
      process.stdout.write(renderEnvFile(stackEnvVars(loadStackConfig(), paths)));
      return 0;
  }
}

main(process.argv.slice(2)).then(
  // Exit explicitly: client libraries can keep sockets or timers alive after we are done.
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
    else if (err instanceof StackError) process.stderr.write(`error: ${err.message}\n`);
    else
      process.stderr.write(
        `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    process.exit(1);
  },
);
