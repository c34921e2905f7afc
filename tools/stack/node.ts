import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './errors';
import type { StackPaths } from './paths';

/** The Node major the services run on: the one .node-version pins (./dispatch installs that version). */
export function requiredNodeMajor(repoRoot: string): number {
  const pinned = readFileSync(path.join(repoRoot, '.node-version'), 'utf8').trim();
  const major = Number(pinned.split('.')[0]);
  if (!Number.isInteger(major) || major <= 0)
    throw new StackError(`.node-version holds no version: "${pinned}"`);
  return major;
}

/**
 * The node binary for the services (and their build): this one when it is recent enough, else the
 * one ./dispatch installed into .stack/node. So `pnpm stack restart` from a shell whose node is
 * older still runs the services on Node 24.
 */
export function serviceNode(
  paths: StackPaths,
  current: { execPath: string; version: string } = process,
): string {
  const major = requiredNodeMajor(paths.repoRoot);
  if (Number(current.version.replace(/^v/, '').split('.')[0]) >= major) return current.execPath;
  const installed = path.join(paths.stackDir, 'node', 'bin', 'node');
  if (existsSync(installed)) return installed;
  throw new StackError(
    `the services need Node ${major}+, this is Node ${current.version} and .stack/node has none: ` +
      `run ./dispatch up once (it installs Node ${major} into .stack/node)`,
  );
}

/** The condition that makes node load the workspace packages from source (.npmrc node-options). */
export const SOURCE_CONDITION = '--conditions=@dispatch/source';

/**
 * NODE_OPTIONS for a compiled service: the launcher runs under pnpm, whose node-options make node
 * load the workspace packages' TypeScript; a service must load their dist/. Undefined when nothing
 * else is left.
 */
export function compiledNodeOptions(nodeOptions: string | undefined): string | undefined {
  const kept = (nodeOptions ?? '')
    .split(/\s+/)
    .filter((option) => option !== '' && option !== SOURCE_CONDITION);
  return kept.length > 0 ? kept.join(' ') : undefined;
}
