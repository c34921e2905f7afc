import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ACCOUNT_LINES, pruneRootfs, withAccount } from './rootfs';

describe('withAccount', () => {
  const passwd =
    'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';

  test('appends the node user once (idempotent)', () => {
    const once = withAccount(passwd, ACCOUNT_LINES.passwd);
    expect(once).toBe(`${passwd}node:x:1000:1000::/home/node:/bin/sh\n`);
    expect(withAccount(once, ACCOUNT_LINES.passwd)).toBe(once);
  });

  test('leaves a file whose id 1000 or name node is taken as it is', () => {
    const taken = `${passwd}debian:x:1000:1000::/home/debian:/bin/sh\n`;
    expect(withAccount(taken, ACCOUNT_LINES.passwd)).toBe(taken);
    const group = 'root:x:0:\nnode:x:1001:\n';
    expect(withAccount(group, ACCOUNT_LINES.group)).toBe(group);
  });

  test('a file without a final newline, an empty file, shadow lines', () => {
    expect(withAccount('root:x:0:', ACCOUNT_LINES.group)).toBe('root:x:0:\nnode:x:1000:\n');
    expect(withAccount('', ACCOUNT_LINES.shadow)).toBe(`${ACCOUNT_LINES.shadow}\n`);
    // shadow's third field is a date, not an id: a 20000 there is no clash
    expect(withAccount('root:*:20000:0:99999:7:::\n', ACCOUNT_LINES.shadow, false)).toContain('node:!');
  });
});

describe('pruneRootfs', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'images-rootfs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("drops apt's downloads and lists, man pages, locales, docs but each package's copyright", () => {
    const files = [
      'var/cache/apt/archives/apt_2.6.1_amd64.deb',
      'var/cache/apt/pkgcache.bin',
      'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease',
      'usr/share/man/man1/ls.1.gz',
      'usr/share/locale/de/LC_MESSAGES/coreutils.mo',
      'usr/share/doc/coreutils/copyright',
      'usr/share/doc/coreutils/changelog.Debian.gz',
      'usr/share/doc/apt/examples/sources.list',
      'var/log/dpkg.log',
      'usr/bin/ls',
      'etc/passwd',
    ];
    for (const file of files) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), 'x');
    }
    pruneRootfs(root);
    const exists = (file: string) => {
      try {
        readFileSync(path.join(root, file));
        return true;
      } catch {
        return false;
      }
    };
    expect(files.filter(exists)).toEqual(['usr/share/doc/coreutils/copyright', 'usr/bin/ls', 'etc/passwd']);
    // apt still finds the folders it writes to
    expect(() => readFileSync(path.join(root, 'var/lib/apt/lists/partial'))).toThrow(/EISDIR/);
    expect(() => readFileSync(path.join(root, 'var/cache/apt/archives/partial'))).toThrow(/EISDIR/);
  });
});
