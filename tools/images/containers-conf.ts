/**
 * What rootful podman needs in /etc/containers/containers.conf on this kind of machine (a sandbox
 * that forbids raising rlimits and crun's cgroup handling): runc, cgroupfs, and default ulimits
 * no higher than the sandbox's own. The edit is pure and idempotent: it keeps every other line and
 * comment, replaces a setting whose value differs, and adds a missing one to its table.
 */
export interface Setting {
  /** TOML table: `containers` or `engine`. */
  table: string;
  key: string;
  /** The TOML value as written: `"runc"`, `["a", "b"]`. */
  value: string;
  /** Why, written as a comment above a setting the edit adds. */
  why: string;
}

export const CONTAINERS_CONF = '/etc/containers/containers.conf';

export const REQUIRED_SETTINGS: readonly Setting[] = [
  {
    table: 'containers',
    key: 'default_ulimits',
    value: '["nofile=20000:20000", "nproc=4096:4096"]',
    why: 'the sandbox forbids raising rlimits above its own',
  },
  { table: 'engine', key: 'runtime', value: '"runc"', why: "crun's cgroup mode is refused here" },
  { table: 'engine', key: 'cgroup_manager', value: '"cgroupfs"', why: 'no systemd cgroup manager here' },
];

export interface ConfEdit {
  text: string;
  /** One line per setting changed or added (empty: the file already had them all). */
  changes: string[];
}

const TABLE_HEADER = /^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$/;

/** Brackets opened minus closed, outside quoted strings and comments. */
function bracketDepth(text: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') {
      // a comment runs to the end of its line
      while (i + 1 < text.length && text[i + 1] !== '\n') i += 1;
    } else if (c === '[') depth += 1;
    else if (c === ']') depth -= 1;
  }
  return depth;
}

/** A value without whitespace outside strings, comments, or a trailing comma in an array. */
function normalise(value: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i]!;
    if (quote) {
      out += c;
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      out += c;
    } else if (c === '#') {
      // a comment runs to the end of its line
      while (i < value.length && value[i] !== '\n') i += 1;
    } else if (!/\s/.test(c)) out += c;
  }
  return out.replace(/,\]/g, ']');
}

interface Located {
  /** First and last line (inclusive) of `key = value`, which may span lines (an array). */
  start: number;
  end: number;
  value: string;
}

function tableOf(lines: string[], index: number): string | undefined {
  for (let i = index; i >= 0; i -= 1) {
    const match = TABLE_HEADER.exec(lines[i]!);
    if (match) return match[1];
  }
  return undefined;
}

function locate(lines: string[], setting: Setting): Located | undefined {
  const keyLine = new RegExp(`^\\s*${setting.key}\\s*=(.*)$`);
  for (let i = 0; i < lines.length; i += 1) {
    const match = keyLine.exec(lines[i]!);
    if (!match || tableOf(lines, i) !== setting.table) continue;
    let value = match[1]!;
    let end = i;
    while (bracketDepth(value) > 0 && end + 1 < lines.length) {
      end += 1;
      value += `\n${lines[end]}`;
    }
    return { start: i, end, value: value.trim() };
  }
  return undefined;
}

/** `text` with every setting in place (pure). */
export function applySettings(text: string, settings: readonly Setting[] = REQUIRED_SETTINGS): ConfEdit {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const changes: string[] = [];
  for (const setting of settings) {
    const line = `${setting.key} = ${setting.value}`;
    const found = locate(lines, setting);
    if (found) {
      if (normalise(found.value) === normalise(setting.value)) continue;
      lines.splice(found.start, found.end - found.start + 1, line);
      changes.push(
        `[${setting.table}] ${setting.key}: ${found.value.replace(/\s+/g, ' ')} → ${setting.value}`,
      );
      continue;
    }
    const added = [`# ./dispatch images: ${setting.why}.`, line];
    const header = lines.findIndex((l) => TABLE_HEADER.exec(l)?.[1] === setting.table);
    if (header >= 0) {
      // At the end of the table: before the next table's header and the blank lines above it.
      let end = lines.findIndex((l, i) => i > header && TABLE_HEADER.test(l));
      if (end < 0) end = lines.length;
      while (end - 1 > header && lines[end - 1]!.trim() === '') end -= 1;
      lines.splice(end, 0, ...added);
    } else {
      if (lines.length > 0 && lines.at(-1)!.trim() !== '') lines.push('');
      lines.push(`[${setting.table}]`, ...added);
    }
    changes.push(`[${setting.table}] ${setting.key} = ${setting.value} (added)`);
  }
  return { text: `${lines.join('\n')}\n`, changes };
}
