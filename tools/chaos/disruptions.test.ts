import { shuffledRound } from './disruptions';

describe('shuffledRound', () => {
  it('holds every victim and fault once, in an order the random source decides', () => {
    const round = shuffledRound(['order-service', 'query-api'], ['kafka', 'postgres'], () => 0);
    expect(round).toHaveLength(4);
    expect(round).toEqual(
      expect.arrayContaining([
        { kind: 'service', victim: 'order-service' },
        { kind: 'service', victim: 'query-api' },
        { kind: 'fault', fault: 'kafka' },
        { kind: 'fault', fault: 'postgres' },
      ]),
    );
    expect(shuffledRound(['order-service', 'query-api'], ['kafka', 'postgres'], () => 0.999)).not.toEqual(
      round,
    );
  });
});
