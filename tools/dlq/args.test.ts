import { parseDlqArgs, UsageError } from './args';

describe('parseDlqArgs', () => {
  it('parses list and replay', () => {
    expect(parseDlqArgs(['list', 'payment-service', '--json'])).toEqual({
      name: 'list',
      service: 'payment-service',
      json: true,
    });
    expect(parseDlqArgs(['replay', 'query-api', '--offset', '0:12,3:7', '--dry-run'])).toEqual({
      name: 'replay',
      service: 'query-api',
      selection: {
        offsets: [
          { partition: 0, offset: '12' },
          { partition: 3, offset: '7' },
        ],
      },
      dryRun: true,
    });
    expect(parseDlqArgs(['replay', 'order-service', '--all', '--reason', 'exhausted'])).toMatchObject({
      selection: { all: true },
      reason: 'exhausted',
    });
  });

  it.each([
    [['frobnicate', 'query-api'], /unknown command/],
    [['list'], /needs a service/],
    [['list', 'billing'], /unknown service "billing"/],
    [['list', 'query-api', '--yaml'], /unknown option/],
    [['replay', 'query-api'], /exactly one of --all or --offset/],
    [['replay', 'query-api', '--all', '--offset', '0:1'], /exactly one of/],
    [['replay', 'query-api', '--offset', '0-1'], /bad --offset "0-1"/],
    [['replay', 'query-api', '--all', '--reason', 'bored'], /--reason needs one of/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseDlqArgs(argv)).toThrow(UsageError);
    expect(() => parseDlqArgs(argv)).toThrow(message);
  });
});
