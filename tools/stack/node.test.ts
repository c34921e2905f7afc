import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compiledNodeOptions, requiredNodeMajor, serviceNode } from './node';
import { stackPaths } from './paths';

describe('serviceNode (the services run on the Node .node-version pins)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'stack-node-'));
  const paths = stackPaths(root);
  const installed = path.join(root, '.stack', 'node', 'bin', 'node');
  beforeAll(() => writeFileSync(path.join(root, '.node-version'), '24.22.3\n'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the major from .node-version', () => {
    expect(requiredNodeMajor(root)).toBe(24);
  });

  it('uses the running node when it is recent enough', () => {
    expect(serviceNode(paths, { execPath: '/usr/bin/node', version: 'v24.1.0' })).toBe('/usr/bin/node');
    expect(serviceNode(paths, { execPath: '/usr/bin/node', version: 'v26.0.0' })).toBe('/usr/bin/node');
  });

  it('an older node without .stack/node is refused, naming what to run', () => {
    expect(() => serviceNode(paths, { execPath: '/usr/bin/node', version: 'v20.20.2' })).toThrow(
      /need Node 24\+, this is Node v20\.20\.2 .*run \.\/dispatch up/,
    );
  });

  it('an older node uses the one ./dispatch installed into .stack/node', () => {
    mkdirSync(path.dirname(installed), { recursive: true });
    writeFileSync(installed, '');
    expect(serviceNode(paths, { execPath: '/usr/bin/node', version: 'v20.20.2' })).toBe(installed);
  });
});

describe('compiledNodeOptions (a compiled service loads the packages from dist/)', () => {
  it('drops the source condition pnpm adds, keeps the rest', () => {
    expect(compiledNodeOptions('--conditions=@dispatch/source')).toBeUndefined();
    expect(compiledNodeOptions('--max-old-space-size=512 --conditions=@dispatch/source')).toBe(
      '--max-old-space-size=512',
    );
    expect(compiledNodeOptions(undefined)).toBeUndefined();
    expect(compiledNodeOptions('--trace-warnings')).toBe('--trace-warnings');
  });
});
