import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProjects, mirrorAssets } from './build';

describe('mirrorAssets (what tsc does not emit, next to the compiled code)', () => {
  const project = mkdtempSync(path.join(os.tmpdir(), 'build-assets-'));
  const put = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
    writeFileSync(path.join(project, file), text);
  };
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('copies migrations and data, not TypeScript or notes; a second run changes nothing', () => {
    put('src/main.ts', 'export {}');
    put('src/migrations/1_init.sql', 'CREATE TABLE t (id int);');
    put('src/seed/catalogue.json', '[]');
    put('src/kafka/README.md', '# notes');
    put('dist/main.js', '"use strict";');
    expect(mirrorAssets(project)).toBe(2);
    expect(readFileSync(path.join(project, 'dist/migrations/1_init.sql'), 'utf8')).toBe(
      'CREATE TABLE t (id int);',
    );
    expect(existsSync(path.join(project, 'dist/seed/catalogue.json'))).toBe(true);
    expect(existsSync(path.join(project, 'dist/kafka/README.md'))).toBe(false);
    expect(existsSync(path.join(project, 'dist/main.ts'))).toBe(false);
    expect(mirrorAssets(project)).toBe(0);
  });

  it('an asset renamed in src/ is gone from dist/ under its old name; compiled output stays', () => {
    rmSync(path.join(project, 'src/migrations/1_init.sql'));
    put('src/migrations/1_create.sql', 'CREATE TABLE t (id int);');
    expect(mirrorAssets(project)).toBe(2);
    expect(existsSync(path.join(project, 'dist/migrations/1_init.sql'))).toBe(false);
    expect(existsSync(path.join(project, 'dist/migrations/1_create.sql'))).toBe(true);
    expect(existsSync(path.join(project, 'dist/main.js'))).toBe(true);
  });
});

describe('buildProjects', () => {
  it('lists every package and service of the repository', () => {
    const projects = buildProjects(path.resolve(__dirname, '..', '..'));
    expect(projects).toEqual(
      expect.arrayContaining(['packages/contracts', 'packages/platform', 'services/order-service']),
    );
    expect(projects).toHaveLength(9);
  });
});
