import { runMain } from './main';

describe('runMain', () => {
  it('reports a start that throws before its first await like any failed start: message, exit 1', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      runMain('svc', () => {
        throw new Error('AUTH_JWKS_FILE /x.json: cannot be read');
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(write).toHaveBeenCalledWith(
        expect.stringMatching(/^svc failed to start: Error: AUTH_JWKS_FILE \/x\.json: cannot be read/),
      );
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      exit.mockRestore();
      write.mockRestore();
    }
  });
});
