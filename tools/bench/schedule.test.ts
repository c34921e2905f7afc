import {
  achievedRate,
  defaultSampleFraction,
  dueCount,
  dueOffsetMs,
  isSampled,
  ordersInStep,
} from './schedule';

describe('the schedule', () => {
  it('places rate x duration orders, order i due at i / rate', () => {
    expect(ordersInStep(50, 30)).toBe(1500);
    expect(dueOffsetMs(0, 50)).toBe(0);
    expect(dueOffsetMs(1, 50)).toBe(20);
    expect(dueOffsetMs(1499, 50)).toBe(29_980);
    expect(dueOffsetMs(2, 3)).toBeCloseTo(666.667, 3);
  });

  it('counts the orders due at a moment: late ones are all due at once, none beyond the total', () => {
    expect(dueCount(-5, 50, 100)).toBe(0);
    expect(dueCount(0, 50, 100)).toBe(1);
    expect(dueCount(19.9, 50, 100)).toBe(1);
    expect(dueCount(20, 50, 100)).toBe(2);
    // The client was busy for 200 ms: the ten orders due meanwhile go out together, none is skipped.
    expect(dueCount(200, 50, 100)).toBe(11);
    expect(dueCount(10_000, 50, 100)).toBe(100);
    // Rates whose interval is not a whole number of ms: order 3 of 3/s is due at exactly 1000 ms.
    expect(dueCount(1000, 3, 100)).toBe(4);
  });

  it('follows every order up to 20/s, an even fraction beyond', () => {
    expect(defaultSampleFraction(5)).toBe(1);
    expect(defaultSampleFraction(20)).toBe(1);
    expect(defaultSampleFraction(200)).toBeCloseTo(0.1);
    const pick = (fraction: number, n: number) =>
      Array.from({ length: n }, (_, i) => i).filter((i) => isSampled(i, fraction));
    expect(pick(1, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(pick(0.25, 12)).toEqual([3, 7, 11]);
    expect(pick(0.5, 6)).toEqual([1, 3, 5]);
    expect(pick(20 / 300, 3000)).toHaveLength(200);
    expect(pick(0.1, 1000)).toHaveLength(100);
  });
});

describe('achievedRate', () => {
  const window = { windowMs: 10_000, rate: 10 };
  const every = (intervalMs: number, n: number, offsetMs = 0) =>
    Array.from({ length: n }, (_, i) => offsetMs + i * intervalMs);

  it('is the offered rate when every event came on time, however late the first one', () => {
    expect(achievedRate(every(100, 100, 80), window)).toBeCloseTo(10);
    // A saga of 1.5 s delays every event alike: the rate is the same.
    expect(achievedRate(every(100, 100, 1_500), window)).toBeCloseTo(10);
  });

  it('is the rate the stack got through when it fell behind', () => {
    // 100 orders offered over 10 s, answered one every 140 ms: 7.1/s.
    expect(achievedRate(every(140, 100, 50), window)).toBeCloseTo(1000 / 140, 1);
  });

  it('counts a stack that stopped answering half-way at half the rate', () => {
    expect(achievedRate(every(100, 50, 80), window)).toBeCloseTo(4.95, 2);
  });

  it('scales a sample to the whole', () => {
    // Every fourth order followed, 25 of them, all on time: accepted 100 / followed 25.
    expect(achievedRate(every(400, 25, 300), window, 4)).toBeCloseTo(9.7, 1);
  });

  it('falls back to count / window with fewer than two events', () => {
    expect(achievedRate([], window)).toBe(0);
    expect(achievedRate([500], window)).toBeCloseTo(0.1);
  });
});
