import { parseArgs } from './args';
import { UsageError } from './errors';

describe('parseArgs', () => {
  it('reads the simple commands', () => {
    expect(parseArgs(['up'])).toEqual({ name: 'up', infraOnly: false });
    expect(parseArgs(['down'])).toEqual({ name: 'down', servicesOnly: false });
    expect(parseArgs(['status'])).toEqual({ name: 'status' });
    expect(parseArgs(['env'])).toEqual({ name: 'env' });
  });

  it('reads the flags of up and down', () => {
    expect(parseArgs(['up', '--infra-only'])).toEqual({ name: 'up', infraOnly: true });
    expect(parseArgs(['down', '--services'])).toEqual({ name: 'down', servicesOnly: true });
    expect(() => parseArgs(['up', '--services'])).toThrow(/takes only --infra-only/);
  });

  it('reads restart and instance with a known service name', () => {
    expect(parseArgs(['restart', 'order-service'])).toEqual({ name: 'restart', service: 'order-service' });
    expect(parseArgs(['instance', 'inventory-service', '--port', '8093'])).toEqual({
      name: 'instance',
      service: 'inventory-service',
      port: 8093,
    });
    expect(() => parseArgs(['restart'])).toThrow(/one service name/);
    expect(() => parseArgs(['restart', 'kafka'])).toThrow(/unknown service "kafka"/);
    expect(() => parseArgs(['instance', 'inventory-service'])).toThrow(/--port N/);
    expect(() => parseArgs(['instance', 'inventory-service', '--port', '99999'])).toThrow(/--port N/);
  });

  it('shows help without a command or with --help', () => {
    expect(parseArgs([])).toEqual({ name: 'help' });
    expect(parseArgs(['--help'])).toEqual({ name: 'help' });
  });

  it('reads logs with its name, line count and follow flag', () => {
    expect(parseArgs(['logs', 'kafka'])).toEqual({
      name: 'logs',
      target: 'kafka',
      lines: 100,
      follow: false,
    });
    expect(parseArgs(['logs', '-f', 'cassandra', '-n', '20'])).toEqual({
      name: 'logs',
      target: 'cassandra',
      lines: 20,
      follow: true,
    });
  });

  it('rejects unknown commands, stray arguments and bad options', () => {
    expect(() => parseArgs(['start'])).toThrow(UsageError);
    expect(() => parseArgs(['status', 'kafka'])).toThrow(/takes no arguments/);
    expect(() => parseArgs(['logs'])).toThrow(/needs a name/);
    expect(() => parseArgs(['logs', 'kafka', 'redis'])).toThrow(/one name/);
    expect(() => parseArgs(['logs', 'kafka', '-n', 'ten'])).toThrow(/positive number/);
    expect(() => parseArgs(['logs', 'kafka', '--tail'])).toThrow(/unknown option/);
  });
});
