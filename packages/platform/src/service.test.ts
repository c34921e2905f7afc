import { startService } from './service';

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
