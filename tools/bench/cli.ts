import { writeFileSync } from 'node:fs';
import { runCli } from '../cli/flags';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs } from './args';
import { runIdle, runOpenLoop } from './open-loop';
import { renderIdleReport, renderOpenLoopReport } from './open-report';
import { renderReport } from './report';
import { runBench } from './run';

/**
 * `./dispatch bench`: see BENCH_USAGE. Exit 0 when the run passes its check, 1 otherwise (closed
 * loop: an order not DELIVERED; open loop: an accepted order missing from the read model or ended
 * in a failure status), 2 on bad arguments.
 */
async function main(argv: string[]): Promise<number> {
  const command = parseBenchArgs(argv);
  if (command === undefined) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const writeJson = (result: unknown) => {
    if (command.jsonFile) writeFileSync(command.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  };
  if (command.mode === 'idle') {
    const result = await runIdle(command, log);
    process.stdout.write(renderIdleReport(result));
    writeJson(result);
    return 0;
  }
  if (command.mode === 'open') {
    const result = await runOpenLoop(command, log);
    process.stdout.write(renderOpenLoopReport(result));
    writeJson(result);
    return result.failures.length === 0 ? 0 : 1;
  }
  const result = await runBench(command, log);
  process.stdout.write(renderReport(result));
  writeJson(result);
  return result.failures.length === 0 ? 0 : 1;
}

runCli('dispatch bench', main, BenchUsageError, BENCH_USAGE);
