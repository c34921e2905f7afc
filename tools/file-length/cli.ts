/**
 * `pnpm lint:lengths`: fails when a hand-written .ts file has more than MAX_LINES lines (the rule
 * and the list of generated files are in file-length.ts). The files are the ones git tracks plus
 * the untracked ones it does not ignore, so a new file counts before it is committed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  checkFileLengths,
  countLines,
  describeReport,
  type FileLength,
  isTypeScript,
  MAX_LINES,
} from './file-length';

const root = path.resolve(__dirname, '..', '..');

function listedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.split('\0').filter((f) => f !== ''))];
}

function lengths(files: string[]): FileLength[] {
  const result: FileLength[] = [];
  for (const file of files.filter(isTypeScript)) {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch (err) {
      // Deleted in the working tree but not yet in the index: nothing to measure.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    result.push({ path: file, lines: countLines(text) });
  }
  return result;
}

const files = lengths(listedFiles());
const problems = describeReport(checkFileLengths(files));
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
console.log(`file lengths: ${files.length} TypeScript files, none over ${MAX_LINES} lines`);
