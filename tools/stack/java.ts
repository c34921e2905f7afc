import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { StackError } from './errors';

const execFileAsync = promisify(execFile);

/** $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH. */
export function javaBinary(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.JAVA_HOME;
  if (home) {
    const candidate = path.join(home, 'bin', 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

/** Major version from `java -version` output (`version "17.0.15"` → 17, `"1.8.0_392"` → 8). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** Kafka 4.x brokers need Java 17+; Cassandra 5.0 runs on 11 or 17. */
export async function checkJava(java: string, minimumMajor = 17): Promise<number> {
  let output: string;
  try {
    const result = await execFileAsync(java, ['-version']);
    output = `${result.stderr}${result.stdout}`;
  } catch (err) {
    throw new StackError(
      `cannot run "${java} -version": install a JDK 17 (apt-get install openjdk-17-jdk-headless)`,
      {
        cause: err,
      },
    );
  }
  const major = parseJavaMajor(output);
  if (major === undefined) throw new StackError(`cannot read the Java version from: ${output.trim()}`);
  if (major < minimumMajor) {
    throw new StackError(
      `Java ${major} found at ${java}; Kafka and Cassandra need Java ${minimumMajor}+ (set JAVA_HOME)`,
    );
  }
  return major;
}
