import { requireRunningServices, SERVICE_NAMES, serviceUrl } from '@dispatch/testkit';
import { readCatalogue } from '../catalogue';
import { promtool } from './support/prometheus';

/**
 * Every running service's GET /metrics passes `promtool check metrics` without a single warning
 * (units in names, _total only on counters, base units), and exposes only catalogued metrics.
 * Needs the running stack (`pnpm stack up`).
 */
const scraped = new Map<string, string>();

beforeAll(async () => {
  await requireRunningServices(SERVICE_NAMES);
  for (const name of SERVICE_NAMES) {
    const response = await fetch(`${serviceUrl(name)}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) throw new Error(`${name}: GET /metrics answered ${response.status}`);
    scraped.set(name, await response.text());
  }
});

describe.each(SERVICE_NAMES)('%s /metrics', (name) => {
  it('passes `promtool check metrics` with no warning', () => {
    const text = scraped.get(name)!;
    expect(text).toContain('# TYPE');
    const { status, output } = promtool(['check', 'metrics'], text);
    expect({ status, output }).toEqual({ status: 0, output: '' });
  });

  it('exposes only metrics listed in docs/metrics.md, with the documented type', () => {
    const catalogue = new Map(readCatalogue().map((e) => [e.name, e.type]));
    const typed = [...scraped.get(name)!.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({
      name: m[1]!,
      type: m[2]!,
    }));
    expect(typed.length).toBeGreaterThan(20);
    const problems = typed.flatMap((t) => {
      const documented = catalogue.get(t.name);
      if (!documented) return [`${t.name} (${t.type}) is not in docs/metrics.md`];
      return documented === t.type ? [] : [`${t.name}: exposed as ${t.type}, documented as ${documented}`];
    });
    expect(problems).toEqual([]);
  });

  it('labels every sample with service="<name>"', () => {
    const samples = scraped
      .get(name)!
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.filter((line) => !line.includes(`service="${name}"`))).toEqual([]);
  });
});
