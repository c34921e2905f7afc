import { writeFileSync } from 'node:fs';
import { runCli } from '../cli/flags';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs } from './args';
import { renderReport } from './report';
import { runBench } from './run';

/** `./dispatch bench`: see BENCH_USAGE. Exit 0 when every order was delivered, 1 otherwise, 2 on bad arguments. */
async function main(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (args === undefined) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const result = await runBench(args, (line) => process.stderr.write(`bench: ${line}\n`));
  process.stdout.write(renderReport(result));
  if (args.jsonFile) writeFileSync(args.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  return result.failures.length === 0 ? 0 : 1;
}

runCli('dispatch bench', main, BenchUsageError, BENCH_USAGE);
