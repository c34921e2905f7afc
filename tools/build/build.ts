/**
 * The one build: `tsc -b` over the project references (packages/*, services/*; incremental, so it
 * takes about a second when nothing changed), then the files tsc does not emit (SQL and CQL
 * migrations, JSON data read at run time) mirrored from each project's src/ into its dist/, so
 * code that finds them next to itself (`path.join(__dirname, 'migrations')`) works compiled.
 * Used by `pnpm build`, the stack launcher (before it starts a service) and the Dockerfile.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** The compiled projects: each has a tsconfig.json with rootDir src and outDir dist. */
export const BUILD_ROOTS = ['packages', 'services'];

export function buildProjects(repoRoot: string): string[] {
  return BUILD_ROOTS.flatMap((root) => {
    const dir = path.join(repoRoot, root);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((name) => path.join(root, name))
      .filter((project) => existsSync(path.join(repoRoot, project, 'tsconfig.json')));
  });
}

/** What tsc writes into dist/; anything else there is a copied asset. */
function isCompilerOutput(file: string): boolean {
  return /\.(js|js\.map|d\.ts|d\.ts\.map)$/.test(file);
}

/** Source files tsc compiles, and notes for people: not copied. */
function isAsset(file: string): boolean {
  return !file.endsWith('.ts') && !file.endsWith('.md');
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) return listFiles(path.join(dir, entry.name), relative);
    return entry.isFile() ? [relative] : [];
  });
}

/**
 * Makes dist/'s assets equal to src/'s: copies new and changed ones, deletes those whose source is
 * gone (a renamed migration must not be applied under its old name too). Returns how many changed.
 */
export function mirrorAssets(projectDir: string): number {
  const src = path.join(projectDir, 'src');
  const dist = path.join(projectDir, 'dist');
  const assets = listFiles(src).filter(isAsset);
  let changed = 0;
  for (const file of assets) {
    const from = path.join(src, file);
    const to = path.join(dist, file);
    const source = statSync(from);
    const copy = existsSync(to) ? statSync(to) : undefined;
    if (copy && copy.size === source.size && copy.mtimeMs >= source.mtimeMs) continue;
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to);
    changed += 1;
  }
  const wanted = new Set(assets);
  for (const file of listFiles(dist)) {
    if (isCompilerOutput(file) || file.endsWith('.tsbuildinfo') || wanted.has(file)) continue;
    rmSync(path.join(dist, file));
    changed += 1;
  }
  return changed;
}

export class BuildError extends Error {}

/**
 * `tsc -b` for the given projects (and what they reference), then their assets. Fails with the
 * compiler's output on a type error: what would run is not what the sources say.
 */
export async function build(
  repoRoot: string,
  projects: string[] = buildProjects(repoRoot),
  node: string = process.execPath,
): Promise<void> {
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(node, [tsc, '-b', ...projects], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.on('error', (err) => reject(new BuildError(`cannot run ${node} ${tsc}: ${err.message}`)));
    child.on('close', (code) =>
      code === 0
        ? resolve(text)
        : reject(new BuildError(`tsc -b ${projects.join(' ')} failed (exit ${code}):\n${text.trimEnd()}`)),
    );
  });
  if (output.trim() !== '') process.stdout.write(output);
  // Every project, not only the ones named: tsc -b also built their references.
  for (const project of buildProjects(repoRoot)) mirrorAssets(path.join(repoRoot, project));
}
