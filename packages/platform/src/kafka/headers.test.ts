import { decodeHeaders } from './headers';

describe('decodeHeaders', () => {
  it('decodes Buffer and string values as UTF-8 strings', () => {
    expect(
      decodeHeaders({
        traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
        note: 'plain',
        accent: Buffer.from('café', 'utf8'),
      }),
    ).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      note: 'plain',
      accent: 'café',
    });
  });

  it('keeps the last value of a repeated header and drops undefined ones', () => {
    expect(decodeHeaders({ x: [Buffer.from('first'), 'second'], gone: undefined })).toEqual({ x: 'second' });
  });

  it('returns an empty record when there are no headers', () => {
    expect(decodeHeaders(undefined)).toEqual({});
  });
});
