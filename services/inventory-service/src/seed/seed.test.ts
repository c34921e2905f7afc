import { readFileSync } from 'node:fs';
import { CatalogueFileError, DEMO_CATALOGUE_PATH, parseCatalogue } from './seed';

describe('parseCatalogue', () => {
  it('reads the demo catalogue: about ten items, some low or out of stock, one in another currency', () => {
    const items = parseCatalogue(readFileSync(DEMO_CATALOGUE_PATH, 'utf8'), 'demo');
    expect(items.length).toBeGreaterThanOrEqual(10);
    expect(items.filter((i) => i.available <= 3).length).toBeGreaterThanOrEqual(3);
    expect(items.some((i) => i.available === 0)).toBe(true);
    expect(new Set(items.map((i) => i.currency))).toEqual(new Set(['EUR', 'GBP']));
    // The contracts' sample order (2 × beans at 12.50, 1 × frother at 39.99, EUR) reserves against it.
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ itemId: 'sku-espresso-beans-1kg', unitPrice: '12.50', currency: 'EUR' }),
        expect.objectContaining({ itemId: 'sku-milk-frother', unitPrice: '39.99', currency: 'EUR' }),
      ]),
    );
  });

  it('names every bad field', () => {
    const text = JSON.stringify({
      items: [
        { itemId: 'a', name: '', unitPrice: '1.5', currency: 'EUR', available: 1 },
        { itemId: 'b', name: 'B', unitPrice: '1.00', currency: 'XYZ', available: -1 },
        { itemId: 'a', name: 'A again', unitPrice: '1.00', currency: 'EUR', available: 1, reserved: 3 },
      ],
    });
    let error: unknown;
    try {
      parseCatalogue(text, 'bad.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CatalogueFileError);
    const problems = (error as CatalogueFileError).problems.map((p) => p.split(':')[0]);
    expect(problems).toEqual([
      'items.0.name',
      'items.0.unitPrice',
      'items.1.currency',
      'items.1.available',
      'items.2',
      'items.2.itemId',
    ]);
    expect((error as CatalogueFileError).message).toContain('bad.json is not a valid catalogue file');
  });

  it('refuses text that is not JSON, and an empty catalogue', () => {
    expect(() => parseCatalogue('{items: []', 'x.json')).toThrow(
      /x.json is not a valid catalogue file:\n {2}- not JSON/,
    );
    expect(() => parseCatalogue('{"items": []}', 'x.json')).toThrow(/items: Too small/);
  });
});
