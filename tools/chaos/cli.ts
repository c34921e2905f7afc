import { runCli } from '../cli/flags';
import { CHAOS_USAGE, ChaosUsageError, parseChaosArgs } from './args';
import { renderChaosReport } from './report';
import { runChaos } from './run';

/** `./dispatch chaos`: see CHAOS_USAGE. Exit 0 when every invariant held, 1 otherwise, 2 on bad arguments. */
async function main(argv: string[]): Promise<number> {
  const args = parseChaosArgs(argv);
  if (args === undefined) {
    process.stdout.write(CHAOS_USAGE);
    return 0;
  }
  const result = await runChaos(args, (line) => process.stderr.write(`chaos: ${line}\n`));
  process.stdout.write(renderChaosReport(result));
  return result.violations.length === 0 ? 0 : 1;
}

runCli('dispatch chaos', main, ChaosUsageError, CHAOS_USAGE);
