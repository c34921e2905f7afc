import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** One version of each dependency: what two workspace packages share comes from the pnpm catalog. */
const root = path.resolve(__dirname, '..', '..');
const workspace = parse(readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8')) as {
  packages: string[];
  catalog: Record<string, string>;
};

type Manifest = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

function manifests(): Map<string, Manifest> {
  const dirs = workspace.packages.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(path.join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern],
  );
  const result = new Map<string, Manifest>();
  for (const dir of ['.', ...dirs]) {
    try {
      result.set(dir, JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as Manifest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return result;
}

const uses = new Map<string, { dir: string; spec: string }[]>();
for (const [dir, manifest] of manifests()) {
  for (const [name, spec] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
    if (spec.startsWith('workspace:')) continue;
    uses.set(name, [...(uses.get(name) ?? []), { dir, spec }]);
  }
}

test('a dependency more than one package uses is "catalog:" everywhere, with its version in the catalog', () => {
  const shared = [...uses].filter(([, where]) => where.length > 1);
  expect(shared.length).toBeGreaterThan(5);
  const problems = shared.flatMap(([name, where]) => [
    ...where.filter((use) => use.spec !== 'catalog:').map((use) => `${use.dir}: ${name}@${use.spec}`),
    ...(workspace.catalog[name] === undefined ? [`${name}: not in pnpm-workspace.yaml's catalog`] : []),
  ]);
  expect(problems).toEqual([]);
});

test('the catalog lists only what some package uses', () => {
  expect(Object.keys(workspace.catalog).filter((name) => !uses.has(name))).toEqual([]);
});
