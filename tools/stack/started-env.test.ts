import { startedEnv } from './started-env';
import { killSleepers, sleeper } from './test/sleeper';

describe('startedEnv (the environment a running process was started with)', () => {
  afterEach(killSleepers);

  it('gives the named variables it has, values with "=" and empty ones included, and no others', async () => {
    const { pid } = await sleeper({ A_TOKEN: 'x=y=z', AN_EMPTY: '', OTHER: 'o' });
    expect(startedEnv(pid!, ['A_TOKEN', 'AN_EMPTY', 'MISSING'])).toEqual({ A_TOKEN: 'x=y=z', AN_EMPTY: '' });
  });

  it('is undefined when the environment cannot be read (no such process)', () => {
    expect(startedEnv(2 ** 22 + 12345, ['PATH'])).toBeUndefined();
  });
});
