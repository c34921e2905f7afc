import { applySettings, REQUIRED_SETTINGS } from './containers-conf';

const ULIMITS = '["nofile=20000:20000", "nproc=4096:4096"]';

describe('applySettings (containers.conf)', () => {
  test('an absent file gets both tables with the three settings, each with why', () => {
    const edit = applySettings('');
    expect(edit.text).toBe(
      [
        '[containers]',
        '# ./dispatch images: the sandbox forbids raising rlimits above its own.',
        `default_ulimits = ${ULIMITS}`,
        '',
        '[engine]',
        "# ./dispatch images: crun's cgroup mode is refused here.",
        'runtime = "runc"',
        '# ./dispatch images: no systemd cgroup manager here.',
        'cgroup_manager = "cgroupfs"',
        '',
      ].join('\n'),
    );
    expect(edit.changes).toHaveLength(3);
    expect(edit.changes[0]).toMatch(/^\[containers\] default_ulimits = .* \(added\)$/);
  });

  test('idempotent: a second run changes nothing', () => {
    const once = applySettings('').text;
    expect(applySettings(once)).toEqual({ text: once, changes: [] });
  });

  test('a file that already says it (other spacing, multi-line array, trailing comma) is left alone', () => {
    const text = [
      '# site config',
      '[containers]',
      'default_ulimits = [',
      '  "nofile=20000:20000",  # the sandbox',
      '  "nproc=4096:4096",',
      ']',
      'log_driver = "k8s-file"',
      '',
      '[engine]',
      "runtime='runc'".replace("'runc'", '"runc"'),
      'cgroup_manager   =   "cgroupfs"',
      '',
    ].join('\n');
    expect(applySettings(text)).toEqual({ text, changes: [] });
  });

  test('replaces a different value in place (a multi-line array too), keeping every other line', () => {
    const text = [
      '[containers]',
      'default_ulimits = [',
      '  "nofile=1048576:1048576",',
      ']',
      'tz = "UTC"',
      '[engine]',
      '# the default',
      'runtime = "crun"',
      'events_logger = "file"',
      '',
    ].join('\n');
    const edit = applySettings(text);
    expect(edit.text).toBe(
      [
        '[containers]',
        `default_ulimits = ${ULIMITS}`,
        'tz = "UTC"',
        '[engine]',
        '# the default',
        'runtime = "runc"',
        'events_logger = "file"',
        '# ./dispatch images: no systemd cgroup manager here.',
        'cgroup_manager = "cgroupfs"',
        '',
      ].join('\n'),
    );
    expect(edit.changes).toEqual([
      `[containers] default_ulimits: [ "nofile=1048576:1048576", ] → ${ULIMITS}`,
      '[engine] runtime: "crun" → "runc"',
      '[engine] cgroup_manager = "cgroupfs" (added)',
    ]);
  });

  test('commented-out keys and keys of other tables (engine.runtimes, network) do not count', () => {
    const text = [
      '[containers]',
      '#default_ulimits = []',
      '[network]',
      'runtime = "crun"',
      '[engine.runtimes]',
      'runc = ["/usr/bin/runc"]',
      'cgroup_manager = "systemd"',
      '',
    ].join('\n');
    const edit = applySettings(text);
    expect(edit.text).toContain(
      `[containers]\n#default_ulimits = []\n# ./dispatch images: the sandbox forbids raising rlimits above its own.\ndefault_ulimits = ${ULIMITS}\n[network]`,
    );
    expect(edit.text).toContain('[network]\nruntime = "crun"');
    expect(edit.text).toContain(
      '[engine.runtimes]\nrunc = ["/usr/bin/runc"]\ncgroup_manager = "systemd"\n\n[engine]\n',
    );
    expect(edit.changes.every((c) => c.endsWith('(added)'))).toBe(true);
    expect(applySettings(edit.text).changes).toEqual([]);
  });

  test('the settings the issue found podman needs here', () => {
    expect(REQUIRED_SETTINGS.map((s) => `[${s.table}] ${s.key} = ${s.value}`)).toEqual([
      `[containers] default_ulimits = ${ULIMITS}`,
      '[engine] runtime = "runc"',
      '[engine] cgroup_manager = "cgroupfs"',
    ]);
  });
});
