import { randomUUID } from 'node:crypto';
import { earliestWins, latestWins, tieBreak, WriteTimeError } from './write-time';

describe('write timestamps', () => {
  it('keep occurredAt in microseconds with the tie-break below the millisecond', () => {
    const at = '2026-03-01T10:00:00.123Z';
    const id = 'ff000000-0000-4000-8000-000000000000';
    expect(latestWins(at, id)).toBe(BigInt(Date.parse(at)) * 1000n + 483n);
    expect(latestWins('2026-03-01T11:00:00.123+01:00', id)).toBe(latestWins(at, id));
  });

  it('order by time first, then by eventId in string order, for random pairs', () => {
    const at = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:00:00.001Z', '2026-03-01T10:00:01.000Z'];
    for (let i = 0; i < 2000; i++) {
      const a = { at: at[i % 3] as string, id: randomUUID() };
      const b = {
        at: at[(i * 7) % 3] as string,
        id: i % 5 === 0 ? randomUUID().toUpperCase() : randomUUID(),
      };
      const aFirst = a.at < b.at || (a.at === b.at && a.id.slice(0, 2) < b.id.slice(0, 2));
      const bFirst = b.at < a.at || (a.at === b.at && b.id.slice(0, 2) < a.id.slice(0, 2));
      if (aFirst) {
        expect(latestWins(a.at, a.id)).toBeLessThan(latestWins(b.at, b.id));
        expect(earliestWins(a.at, a.id)).toBeGreaterThan(earliestWins(b.at, b.id));
      } else if (bFirst) {
        expect(latestWins(b.at, b.id)).toBeLessThan(latestWins(a.at, a.id));
        expect(earliestWins(b.at, b.id)).toBeGreaterThan(earliestWins(a.at, a.id));
      } else {
        expect(latestWins(a.at, a.id)).toBe(latestWins(b.at, b.id));
      }
    }
  });

  it('stay positive 64-bit values', () => {
    const id = randomUUID();
    expect(earliestWins('2200-01-01T00:00:00.000Z', id)).toBeGreaterThan(0n);
    expect(latestWins('2200-01-01T00:00:00.000Z', id)).toBeLessThan(2n ** 63n);
  });

  it('refuse what is not a date or an eventId', () => {
    expect(() => latestWins('yesterday', randomUUID())).toThrow(WriteTimeError);
    expect(() => tieBreak('zz-not-a-uuid')).toThrow(WriteTimeError);
  });
});
