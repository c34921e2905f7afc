import { pomStamp } from './install';

describe('pomStamp', () => {
  it('changes with the pom content and the profile', () => {
    const a = pomStamp('<kafka.version>4.3.1</kafka.version>', 'kafka');
    expect(a).toMatch(/^kafka [0-9a-f]{64}$/);
    expect(pomStamp('<kafka.version>4.3.1</kafka.version>', 'kafka')).toBe(a);
    expect(pomStamp('<kafka.version>4.3.2</kafka.version>', 'kafka')).not.toBe(a);
    expect(pomStamp('<kafka.version>4.3.1</kafka.version>', 'cassandra')).not.toBe(a);
  });
});
