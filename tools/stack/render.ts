import { randomBytes } from 'node:crypto';

/**
 * Pure helpers that turn the committed configs in infra/local into the copies the servers
 * read from .stack/conf (absolute paths, overrides), plus small formatting helpers.
 */

/**
 * Makes every `.stack/...` path in a config absolute, so the servers do not depend on the
 * directory they are started from. Only paths that start a value are touched.
 */
export function absolutizeStackPaths(text: string, stackDir: string): string {
  const dir = stackDir.endsWith('/') ? stackDir.slice(0, -1) : stackDir;
  return text.replace(/(^|[\s=:"'[,])\.stack\//gm, (_match, before: string) => `${before}${dir}/`);
}

/** Sets `key=value` in a Java properties text: replaces the existing line or appends one. */
export function setProperties(text: string, overrides: Record<string, string>): string {
  const lines = text.split('\n');
  for (const [key, value] of Object.entries(overrides)) {
    const index = lines.findIndex((line) => {
      const trimmed = line.trimStart();
      return !trimmed.startsWith('#') && new RegExp(`^${escapeRegExp(key)}\\s*[=:]`).test(trimmed);
    });
    const line = `${key}=${value}`;
    if (index >= 0) lines[index] = line;
    else {
      // Keep a trailing newline at the end of the file.
      const insertAt = lines.at(-1) === '' ? lines.length - 1 : lines.length;
      lines.splice(insertAt, 0, line);
    }
  }
  return lines.join('\n');
}

/**
 * One JVM flag per line; blank lines, comments and lines not starting with '-' are ignored.
 * A line such as `--add-opens java.base/java.lang=ALL-UNNAMED` becomes two arguments.
 */
export function parseJvmOptions(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('-'))
    .flatMap((line) => line.split(/\s+/));
}

/**
 * A KRaft cluster id: 16 random bytes as unpadded URL-safe base64 (what `kafka-storage random-uuid` prints).
 * Ids starting with `-` are drawn again, as Kafka's own generator does: its argument parser
 * would read such an id as an option and refuse to format the storage.
 */
export function newKafkaClusterId(draw: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const bytes = draw();
    if (bytes.length !== 16) throw new Error('a Kafka cluster id needs exactly 16 bytes');
    const id = Buffer.from(bytes).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Quotes a value for a POSIX shell `export` line. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]*$/.test(value) && value !== '') return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function renderEnvFile(vars: [string, string][]): string {
  return `${vars.map(([key, value]) => `export ${key}=${shellQuote(value)}`).join('\n')}\n`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
