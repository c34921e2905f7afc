import { definedMetrics, readCatalogue } from './catalogue';

describe('docs/metrics.md catalogue', () => {
  const catalogue = readCatalogue();
  const byName = new Map(catalogue.map((e) => [e.name, e]));

  it('lists each metric once', () => {
    const names = catalogue.map((e) => e.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(names.length).toBeGreaterThan(50);
  });

  it('lists every metric our code registers, with the same type', () => {
    const problems = definedMetrics().flatMap((m) => {
      const entry = byName.get(m.name);
      if (!entry) return [`${m.name} (${m.file}) is not in docs/metrics.md`];
      if (entry.type !== m.type) return [`${m.name}: docs say ${entry.type}, ${m.file} makes a ${m.type}`];
      return [];
    });
    expect(problems).toEqual([]);
  });

  it('lists nothing of ours that the code does not define, except what it marks as planned', () => {
    const defined = new Set(definedMetrics().map((m) => m.name));
    const stale = catalogue
      .filter((e) => !e.planned && !e.section.startsWith('Node.js process metrics'))
      .filter((e) => !defined.has(e.name))
      .map((e) => e.name);
    expect(stale).toEqual([]);
  });

  it('follows the naming rules: only counters end in _total, durations in _seconds, sizes in _bytes', () => {
    const problems = catalogue.flatMap((e) => {
      const out: string[] = [];
      if (!['counter', 'gauge', 'histogram', 'summary'].includes(e.type))
        out.push(`${e.name}: type ${e.type}`);
      if ((e.type === 'counter') !== e.name.endsWith('_total')) out.push(`${e.name}: _total iff counter`);
      if (/_(ms|milliseconds|minutes|kb|mb)(_|$)/.test(e.name)) out.push(`${e.name}: not a base unit`);
      if (
        /(duration|latency|lag|age)/.test(e.name) &&
        e.type !== 'counter' &&
        !/_(seconds|messages)$/.test(e.name)
      )
        out.push(`${e.name}: a time needs _seconds`);
      return out;
    });
    expect(problems).toEqual([]);
  });

  it('has no high-cardinality label (ids of orders, customers, items, drivers, payments)', () => {
    const offending = catalogue.filter((e) =>
      /`(order_?id|customer_?id|item_?id|driver_?id|payment_?id|delivery_?id|event_?id|sku)`/i.test(e.labels),
    );
    expect(offending.map((e) => e.name)).toEqual([]);
  });
});
