import { pomVersions, serverImageEnv, serverImageSpecs } from './servers';

const POM = `<project><properties>
    <kafka.version>4.3.1</kafka.version>
    <kafka.log4j.version>2.25.4</kafka.log4j.version>
    <cassandra.version>5.0.9</cassandra.version>
</properties></project>`;

describe('server images', () => {
  test('the versions come from the local stack pom', () => {
    expect(pomVersions(POM)).toEqual({ kafka: '4.3.1', cassandra: '5.0.9' });
    expect(() => pomVersions('<project/>')).toThrow(/no <kafka.version>/);
  });

  test('the JRE first, Kafka and Cassandra FROM it, PostgreSQL and Redis FROM the base', () => {
    const specs = serverImageSpecs(
      { kafka: '4.3.1', cassandra: '5.0.9' },
      'localhost/dispatch/node-base:24-bookworm',
    );
    expect(specs.map((s) => [s.key, s.image, s.from.arg, s.from.image])).toEqual([
      ['jre', 'localhost/dispatch/jre:17-bookworm', 'BASE', 'localhost/dispatch/node-base:24-bookworm'],
      ['kafka', 'localhost/dispatch/kafka:4.3.1', 'JRE', 'localhost/dispatch/jre:17-bookworm'],
      ['cassandra', 'localhost/dispatch/cassandra:5.0.9', 'JRE', 'localhost/dispatch/jre:17-bookworm'],
      ['postgres', 'localhost/dispatch/postgres:15', 'BASE', 'localhost/dispatch/node-base:24-bookworm'],
      ['redis', 'localhost/dispatch/redis:7', 'BASE', 'localhost/dispatch/node-base:24-bookworm'],
    ]);
  });

  test("compose's image variables name them (the JRE is no compose service)", () => {
    expect(serverImageEnv(serverImageSpecs({ kafka: '4.3.1', cassandra: '5.0.9' }, 'b'))).toEqual({
      KAFKA_IMAGE: 'localhost/dispatch/kafka:4.3.1',
      CASSANDRA_IMAGE: 'localhost/dispatch/cassandra:5.0.9',
      POSTGRES_IMAGE: 'localhost/dispatch/postgres:15',
      REDIS_IMAGE: 'localhost/dispatch/redis:7',
    });
  });
});
