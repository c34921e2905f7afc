import {
  absolutizeStackPaths,
  formatSeconds,
  newKafkaClusterId,
  parseJvmOptions,
  renderEnvFile,
  setProperties,
  shellQuote,
} from './render';

describe('absolutizeStackPaths', () => {
  it('rewrites .stack/ paths in properties and YAML values', () => {
    const text = [
      'log.dirs=.stack/data/kafka',
      'data_file_directories:',
      '  - .stack/data/cassandra/data',
      'commitlog_directory: .stack/data/cassandra/commitlog',
      'hints: ".stack/h"',
    ].join('\n');
    expect(absolutizeStackPaths(text, '/repo/.stack/')).toBe(
      [
        'log.dirs=/repo/.stack/data/kafka',
        'data_file_directories:',
        '  - /repo/.stack/data/cassandra/data',
        'commitlog_directory: /repo/.stack/data/cassandra/commitlog',
        'hints: "/repo/.stack/h"',
      ].join('\n'),
    );
  });

  it('leaves paths that merely contain .stack/ alone', () => {
    expect(absolutizeStackPaths('a=/x/.stack/y\n# see my.stack/z', '/r')).toBe(
      'a=/x/.stack/y\n# see my.stack/z',
    );
  });
});

describe('properties', () => {
  it('replaces an existing key and appends a new one before the final newline', () => {
    const text = '# comment\nlog.dirs=/tmp/a\nnode.id=1\n';
    expect(setProperties(text, { 'log.dirs': '/data', 'num.partitions': '6' })).toBe(
      '# comment\nlog.dirs=/data\nnode.id=1\nnum.partitions=6\n',
    );
  });

  it('does not touch commented-out keys or keys that share a prefix', () => {
    const text = '#log.dirs=/x\nlog.dirs.extra=1\n';
    expect(setProperties(text, { 'log.dirs': '/d' })).toBe('#log.dirs=/x\nlog.dirs.extra=1\nlog.dirs=/d\n');
  });
});

describe('parseJvmOptions', () => {
  it('keeps flags, drops comments and blank lines, splits two-word flags', () => {
    const text = '# heap\n-Xmx2g\n\n  -ea  \nnot a flag\n--add-opens java.base/java.lang=ALL-UNNAMED\n';
    expect(parseJvmOptions(text)).toEqual([
      '-Xmx2g',
      '-ea',
      '--add-opens',
      'java.base/java.lang=ALL-UNNAMED',
    ]);
  });
});

describe('newKafkaClusterId', () => {
  it('is 22 URL-safe base64 characters', () => {
    expect(newKafkaClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newKafkaClusterId(() => Buffer.alloc(16, 0xff))).toBe('_____________________w');
    expect(() => newKafkaClusterId(() => Buffer.alloc(8))).toThrow(/16 bytes/);
  });

  it('never starts with "-", which Kafka would parse as an option', () => {
    // 0xf8 encodes to "-" (index 62) as the first base64 character.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x00)];
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(newKafkaClusterId(() => draws.shift() as Buffer)).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    for (let i = 0; i < 2000; i++) expect(newKafkaClusterId().startsWith('-')).toBe(false);
  });
});

describe('env file', () => {
  it('quotes only what needs quoting', () => {
    expect(shellQuote('127.0.0.1:9092,b:9092')).toBe('127.0.0.1:9092,b:9092');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });

  it('renders export lines', () => {
    expect(
      renderEnvFile([
        ['A', 'x'],
        ['B', 'two words'],
      ]),
    ).toBe("export A=x\nexport B='two words'\n");
  });

  it('formats elapsed seconds', () => {
    expect(formatSeconds(12_345)).toBe('12.3s');
  });
});
