/**
 * `pnpm build [<project dir> ...]`: compiles the packages and services to their dist/ (all of them
 * by default; a service's dir builds it and the packages it references). See build.ts.
 */
import path from 'node:path';
import { BuildError, build } from './build';

const repoRoot = path.resolve(__dirname, '..', '..');
const projects = process.argv.slice(2);

build(repoRoot, projects.length > 0 ? projects : undefined).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof BuildError ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
