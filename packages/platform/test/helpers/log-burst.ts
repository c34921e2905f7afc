// Run by log-rotation.int.test.ts with stdout appended to DISPATCH_LOG_FILE: logs LINES numbered lines
// through createLogger, checking the rotation every CHECK_EVERY lines, plus some console and stderr
// output (other writers to the same descriptor).
import { createLogger, stdoutRotationFromEnv } from '@dispatch/platform';

const lines = Number(process.env.LINES ?? 1000);
const every = Number(process.env.CHECK_EVERY ?? 50);
const logger = createLogger('log-burst', 'info');
const rotation = stdoutRotationFromEnv();
if (rotation === undefined) {
  process.stderr.write('no rotation: stdout is not DISPATCH_LOG_FILE\n');
  process.exit(3);
}
for (let i = 0; i < lines; i += 1) {
  if (i % 100 === 99) console.log(JSON.stringify({ n: i, via: 'console' }));
  else if (i % 100 === 98) process.stderr.write(`${JSON.stringify({ n: i, via: 'stderr' })}\n`);
  else logger.info({ n: i, pad: 'x'.repeat(100) }, 'burst');
  if (i % every === 0) rotation.check();
}
