import { KubePlayUsageError, parseKubePlayArgs } from './args';

describe('parseKubePlayArgs', () => {
  test('defaults: the dev overlay on 28080-28085', () => {
    expect(parseKubePlayArgs([])).toEqual({
      overlay: 'k8s/overlays/dev',
      portOffset: 20000,
      readyTimeout: 300,
      orderTimeout: 180,
      down: false,
      jobs: false,
    });
  });

  test('flags and --down', () => {
    expect(parseKubePlayArgs(['--port-offset', '30000', '--ready-timeout=60', '--down'])).toMatchObject({
      portOffset: 30000,
      readyTimeout: 60,
      down: true,
    });
    expect(parseKubePlayArgs(['--jobs'])).toMatchObject({ jobs: true, down: false });
    expect(parseKubePlayArgs(['--help'])).toBeUndefined();
  });

  test('refuses what it does not know and values out of range', () => {
    expect(() => parseKubePlayArgs(['--keep'])).toThrow(KubePlayUsageError);
    expect(() => parseKubePlayArgs(['--port-offset', '0'])).toThrow(
      '--port-offset must be a whole number from 1',
    );
    expect(() => parseKubePlayArgs(['--order-timeout', 'soon'])).toThrow('--order-timeout');
  });
});
