import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './errors';
import type { StackPaths } from './paths';

/**
 * Copies a server's runtime classpath from Maven Central into .stack/lib/<name> with mvn.
 * A stamp file records which pom.xml produced the folder; when the pom changes (a version
 * bump) the folder is wiped and copied again, so old and new jars never mix.
 */
const STAMP = '.installed';

export function pomStamp(pomText: string, profile: string): string {
  return `${profile} ${createHash('sha256').update(pomText).digest('hex')}`;
}

export function jarsAreCurrent(paths: StackPaths, name: string, profile: string): boolean {
  const stampFile = path.join(paths.libDir(name), STAMP);
  if (!existsSync(stampFile)) return false;
  const pom = readFileSync(path.join(paths.infraDir, 'pom.xml'), 'utf8');
  return readFileSync(stampFile, 'utf8').trim() === pomStamp(pom, profile);
}

export async function installJars(paths: StackPaths, name: string, profile: string): Promise<number> {
  const libDir = paths.libDir(name);
  const pomFile = path.join(paths.infraDir, 'pom.xml');
  rmSync(libDir, { recursive: true, force: true });
  mkdirSync(libDir, { recursive: true });
  const args = [
    '-q',
    '-B',
    '-f',
    pomFile,
    `-P${profile}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${libDir}`,
  ];
  const output = await run('mvn', args, paths.repoRoot);
  const jars = readdirSync(libDir).filter((file) => file.endsWith('.jar')).length;
  if (jars === 0) throw new StackError(`mvn copied no jars into ${libDir}:\n${output}`);
  writeFileSync(path.join(libDir, STAMP), `${pomStamp(readFileSync(pomFile, 'utf8'), profile)}\n`);
  return jars;
}

function run(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (err) =>
      reject(
        new StackError(
          command === 'mvn'
            ? 'cannot run mvn: install Maven (apt-get install maven)'
            : `cannot run ${command}: is it installed and on PATH?`,
          { cause: err },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new StackError(`${command} ${args.join(' ')} failed (exit ${code}):\n${output}`));
    });
  });
}

export { run as runCommand };

/** runCommand, with the passwords in its arguments and output masked in the error it throws. */
export async function runWithSecrets(
  command: string,
  args: string[],
  cwd: string,
  secrets: string[],
): Promise<string> {
  try {
    return await run(command, args, cwd);
  } catch (err) {
    let message = (err as Error).message;
    for (const secret of secrets) message = message.replaceAll(secret, '***');
    throw new StackError(message);
  }
}
