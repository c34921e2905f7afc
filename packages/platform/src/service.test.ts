import { builtOnce, type ServiceContext, startService } from './service';

describe('startService with prepare', () => {
  const definition = { name: 'prepare-test', port: 0, kafka: { brokers: ['127.0.0.1:1'] } };

  it('a failing prepare fails the start before anything else starts, and onClose closes what it opened', async () => {
    const steps: string[] = [];
    await expect(
      startService({
        ...definition,
        prepare: async () => {
          steps.push('prepare');
          throw new Error('no schema');
        },
        routes: () => steps.push('routes'),
        onClose: async () => {
          steps.push('onClose');
        },
      }),
    ).rejects.toThrow('no schema');
    expect(steps).toEqual(['prepare', 'onClose']);
  });

  it("onClose failing too still fails the start with prepare's error", async () => {
    await expect(
      startService({
        ...definition,
        prepare: async () => Promise.reject(new Error('no schema')),
        onClose: async () => Promise.reject(new Error('already closed')),
      }),
    ).rejects.toThrow('no schema');
  });
});

describe('builtOnce', () => {
  it('builds on the first call and hands the same value to every later one', () => {
    let builds = 0;
    const metricsOf = builtOnce(() => ({ build: ++builds }));
    const ctx = {} as ServiceContext;
    expect(metricsOf(ctx)).toBe(metricsOf(ctx));
    expect(builds).toBe(1);
  });
});
