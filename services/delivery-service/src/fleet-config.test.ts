import { ConfigError, parseConfig } from '@dispatch/platform';
import { deliveryConfigSchema, SERVICE_NAME } from './config';
import { etaModelOf, fleetSettingsOf } from './service';

// The token source every service needs; irrelevant to the fleet settings.
const auth = { AUTH_JWKS_FILE: '/etc/dispatch/jwks.json' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(SERVICE_NAME, deliveryConfigSchema, { ...auth, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  return [];
}

describe('delivery-service fleet config', () => {
  it('is off, real time and ticking every second by default', () => {
    const config = parseConfig(SERVICE_NAME, deliveryConfigSchema, auth);
    expect(config).toMatchObject({ FLEET_SIMULATION: 'off', FLEET_TICK_MS: 1000, FLEET_SPEED_UP: 1 });
    expect(fleetSettingsOf(config)).toBeUndefined();
  });

  it('on with a speed-up compresses the whole delivery-time model', () => {
    const config = parseConfig(SERVICE_NAME, deliveryConfigSchema, {
      ...auth,
      FLEET_SIMULATION: 'on',
      FLEET_SPEED_UP: '120',
      FLEET_TICK_MS: '250',
    });
    expect(etaModelOf(config)).toMatchObject({ speedKmh: 25 * 120, handlingMs: 5000, minRemainingMs: 2500 });
    expect(fleetSettingsOf(config)).toMatchObject({ tickMs: 250 });
  });

  it.each([
    [{ FLEET_SIMULATION: 'yes' }, ['FLEET_SIMULATION']],
    [{ FLEET_SIMULATION: 'on', FLEET_TICK_MS: '50' }, ['FLEET_TICK_MS']],
    [{ FLEET_SIMULATION: 'on', FLEET_SPEED_UP: '0.5' }, ['FLEET_SPEED_UP']],
    [{ FLEET_SIMULATION: 'on', FLEET_SPEED_UP: 'fast' }, ['FLEET_SPEED_UP']],
    // A speed-up without the simulation would scale real drivers' ETAs.
    [{ FLEET_SPEED_UP: '60' }, ['FLEET_SPEED_UP']],
    [{ FLEET_SIMULATION: 'on', DEPOT_LAT: '91', DRIVER_SPEED_KMH: '0' }, ['DEPOT_LAT', 'DRIVER_SPEED_KMH']],
  ])('refuses %j', (env, variables) => {
    expect(problemsOf(env as Record<string, string>)).toEqual(variables);
  });
});
