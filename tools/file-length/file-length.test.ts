import { checkFileLengths, countLines, describeReport, isTypeScript } from './file-length';

describe('countLines', () => {
  it('counts lines as an editor numbers them', () => {
    expect(countLines('')).toBe(0);
    expect(countLines('a')).toBe(1);
    expect(countLines('a\n')).toBe(1);
    expect(countLines('a\nb')).toBe(2);
    expect(countLines('a\nb\n')).toBe(2);
    expect(countLines('\n\n')).toBe(2);
  });
});

describe('isTypeScript', () => {
  it('takes .ts, .tsx, .mts and .cts files, tests included', () => {
    for (const f of ['a.ts', 'src/a.test.ts', 'b.tsx', 'c.mts', 'd.cts', 'e.d.ts'])
      expect(isTypeScript(f)).toBe(true);
    for (const f of ['a.js', 'a.json', 'a.ts.md', 'tsconfig.json', 'a.tsv'])
      expect(isTypeScript(f)).toBe(false);
  });
});

describe('checkFileLengths', () => {
  const files = [
    { path: 'a.ts', lines: 400 },
    { path: 'b.ts', lines: 401 },
    { path: 'c.test.ts', lines: 900 },
    { path: 'gen/api.ts', lines: 5000 },
    { path: 'notes.md', lines: 10_000 },
  ];

  it('names every hand-written TypeScript file over the limit, longest first; the limit itself passes', () => {
    expect(checkFileLengths(files, ['gen/api.ts'], 400)).toEqual({
      tooLong: [
        { path: 'c.test.ts', lines: 900 },
        { path: 'b.ts', lines: 401 },
      ],
      staleGenerated: [],
    });
  });

  it('exempts only the listed generated files, by exact path', () => {
    expect(checkFileLengths(files, [], 400).tooLong.map((f) => f.path)).toEqual([
      'gen/api.ts',
      'c.test.ts',
      'b.ts',
    ]);
  });

  it('reports a listed generated file that does not exist', () => {
    expect(checkFileLengths(files, ['gen/api.ts', 'gen/gone.ts'], 400).staleGenerated).toEqual([
      'gen/gone.ts',
    ]);
  });

  it('passes with nothing to say', () => {
    const report = checkFileLengths([{ path: 'a.ts', lines: 12 }], [], 400);
    expect(report).toEqual({ tooLong: [], staleGenerated: [] });
    expect(describeReport(report, 400)).toEqual([]);
  });
});

describe('describeReport', () => {
  it('names each file with its length, and each stale generated entry', () => {
    const text = describeReport(
      { tooLong: [{ path: 'services/x/src/big.ts', lines: 512 }], staleGenerated: ['gen/gone.ts'] },
      400,
    ).join('\n');
    expect(text).toContain('1 hand-written TypeScript file over 400 lines');
    expect(text).toContain('  services/x/src/big.ts: 512 lines');
    expect(text).toContain('names files that do not exist:\n  gen/gone.ts');
  });
});
