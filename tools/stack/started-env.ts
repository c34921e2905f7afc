import { readFileSync } from 'node:fs';

/**
 * The variables among `names` that a running process was started with, from /proc/<pid>/environ
 * (Linux); undefined when that cannot be read (no /proc, the process gone): callers then assume
 * nothing. `up` compares them with what the process would get now, to restart one started with
 * outdated settings or logins. A variable listed twice counts once, first wins (as getenv sees it).
 */
export function startedEnv<Name extends string>(
  pid: number,
  names: readonly Name[],
): Partial<Record<Name, string>> | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = new Set<string>(names);
  const found: Partial<Record<Name, string>> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq < 0) continue;
    const name = entry.slice(0, eq);
    if (wanted.has(name) && !(name in found)) found[name as Name] = entry.slice(eq + 1);
  }
  return found;
}
