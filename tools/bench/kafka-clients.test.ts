import { CLIENT_NAMES, KafkaClientsUsageError, parseKafkaClientsArgs } from './kafka-clients/args';
import { renderKafkaClientsReport, summarizeRuns } from './kafka-clients/report';
import {
  cpuPer1k,
  decodeValue,
  encodeValue,
  mean,
  median,
  parseSsSegments,
  parseUtimeStime,
  type RunResult,
  ratio,
} from './kafka-clients/results';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseKafkaClientsArgs(argv, env);
const usageError = (argv: string[]) => {
  try {
    parse(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(KafkaClientsUsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('parseKafkaClientsArgs', () => {
  it('defaults to the comparison the docs describe', () => {
    expect(parse([])).toEqual({
      messages: 50_000,
      size: 500,
      clients: [...CLIENT_NAMES],
      rounds: 1,
      batch: 250,
      keys: 1_000,
      latency: 1_000,
      rate: 200,
      idleS: 20,
      brokers: ['127.0.0.1:9092'],
      partitions: 6,
      json: false,
    });
  });

  it('reads every option, in both spellings', () => {
    const args = parse([
      '--messages',
      '1000',
      '--size=100',
      '--clients',
      'confluent,kafkajs',
      '--rounds',
      '2',
      '--batch=100',
      '--keys',
      '10',
      '--latency',
      '0',
      '--rate',
      '50',
      '--idle',
      '0',
      '--partitions',
      '3',
      '--json',
    ]);
    expect(args).toMatchObject({
      messages: 1000,
      size: 100,
      clients: ['confluent', 'kafkajs'],
      rounds: 2,
      batch: 100,
      keys: 10,
      latency: 0,
      rate: 50,
      idleS: 0,
      partitions: 3,
      json: true,
    });
  });

  it('takes the brokers from KAFKA_BROKERS unless --brokers names them', () => {
    expect(parse([], { KAFKA_BROKERS: 'localhost:19092' })?.brokers).toEqual(['localhost:19092']);
    expect(parse(['--brokers', '127.0.0.2:9092,[::1]:9093'], { KAFKA_BROKERS: 'x:1' })?.brokers).toEqual([
      '127.0.0.2:9092',
      '[::1]:9093',
    ]);
  });

  it('returns undefined for help', () => {
    expect(parse(['--help'])).toBeUndefined();
    expect(parse(['--messages', '5', '-h'])).toBeUndefined();
  });

  it('says what is wrong with a bad argument', () => {
    expect(usageError(['--messages', '0'])).toBe(
      '--messages must be a whole number from 1 to 10000000, got "0"',
    );
    expect(usageError(['--size', '4'])).toMatch(/--size must be a whole number from 8/);
    expect(usageError(['--messages', '1e3'])).toMatch(/got "1e3"/);
    expect(usageError(['--messages'])).toBe('--messages needs a value');
    expect(usageError(['--messages', '--json'])).toBe('--messages needs a value');
    expect(usageError(['--rounds', '1', '--rounds', '2'])).toBe('--rounds given twice');
    expect(usageError(['--json', '--json'])).toBe('--json given twice');
    expect(usageError(['--speed', '3'])).toBe('unknown argument "--speed"');
    expect(usageError(['extra'])).toBe('unknown argument "extra"');
    expect(usageError(['--clients', 'kafkajs,rdkafka'])).toMatch(/unknown client "rdkafka"/);
    expect(usageError(['--clients', 'kafkajs,kafkajs'])).toMatch(/"kafkajs" given twice/);
    expect(usageError(['--brokers', 'kafka.example.com:9092'])).toMatch(/not on this machine/);
    expect(usageError(['--brokers', '10.0.0.5:9092'])).toMatch(/not on this machine/);
    expect(usageError(['--brokers', '127.0.0.1'])).toMatch(/not host:port/);
  });
});

describe('parseUtimeStime', () => {
  it('adds fields 14 and 15, counting from the last parenthesis of the command name', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const stat =
      '5172 (java (kafka) x) S 1 5172 5172 0 -1 4194560 100 0 0 0 1234 567 8 9 20 0 80 0 1000 70000 200';
    expect(parseUtimeStime(stat)).toBe(1234 + 567);
  });

  it('is undefined for something else', () => {
    expect(parseUtimeStime('')).toBeUndefined();
    expect(parseUtimeStime('12 (short) S 1 2')).toBeUndefined();
  });
});

describe('parseSsSegments', () => {
  const ss = [
    'ESTAB 0 0 127.0.0.1:52704 127.0.0.1:9092 users:(("node",pid=8618,fd=19))',
    '\t bbr rto:204 bytes_sent:211274 segs_out:96 segs_in:52 data_segs_out:51 data_segs_in:48 lastsnd:44',
    'ESTAB 0 0 127.0.0.1:52706 127.0.0.1:9092 users:(("node",pid=8618,fd=27))',
    '\t bbr rto:204 segs_out:229 segs_in:153 data_segs_out:151 data_segs_in:150',
    'ESTAB 0 0 127.0.0.1:52710 127.0.0.1:5432 users:(("node",pid=8618,fd=30))',
    '\t bbr data_segs_out:1000 data_segs_in:1000',
    'ESTAB 0 0 127.0.0.1:52720 127.0.0.1:9092 users:(("node",pid=86180,fd=28))',
    '\t bbr data_segs_out:7 data_segs_in:7',
  ].join('\n');

  it('sums the data segments of one pid’s connections to the broker ports', () => {
    expect(parseSsSegments(ss, 8618, [9092])).toEqual({ connections: 2, dataSegsOut: 202, dataSegsIn: 198 });
    expect(parseSsSegments(ss, 1, [9092])).toEqual({ connections: 0, dataSegsOut: 0, dataSegsIn: 0 });
  });
});

describe('message values', () => {
  it('round-trip their kind and id at the requested size', () => {
    const bulk = encodeValue('bulk', 49_999, 500);
    expect(bulk).toHaveLength(500);
    expect(decodeValue(bulk)).toEqual({ kind: 'bulk', id: 49_999 });
    expect(decodeValue(encodeValue('probe', 7, 8))).toEqual({ kind: 'probe', id: 7 });
  });

  it('ignores values that are not the benchmark’s', () => {
    expect(decodeValue(null)).toBeUndefined();
    expect(decodeValue(Buffer.from('{"eventType":"x"}'))).toBeUndefined();
    expect(decodeValue(Buffer.from([0x42, 0]))).toBeUndefined();
  });
});

describe('arithmetic', () => {
  it('gives CPU per 1000 messages, means and ratios that skip what is missing', () => {
    expect(cpuPer1k(250, 50_000)).toBe(5);
    expect(cpuPer1k(1, 0)).toBeNaN();
    expect(mean([1, 2, Number.NaN, 6])).toBe(3);
    expect(mean([])).toBeNaN();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN])).toBeNaN();
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });
});

function run(client: RunResult['client'], round: number, produceCpu: number, p50: number | null): RunResult {
  const phase = { messages: 1000, wallMs: 500, perSecond: 2000, cpuMs: produceCpu, cpuMsPer1k: produceCpu };
  return {
    client,
    version: '1.0.0',
    round,
    topic: `t.${client}.${round}`,
    produce: { ...phase, brokerCpuMsPer1k: 10, sends: 4 },
    consume: { ...phase, brokerCpuMsPer1k: null, firstMessageMs: 50, commits: 6, meanBatch: 166.7 },
    latency: {
      count: 10,
      missing: 0,
      min: 1,
      p50,
      p99: p50 === null ? null : p50 * 2,
      p999: null,
      max: 9,
      mean: 3,
      sent: 10,
      rate: 200,
      achievedRate: 199,
      ackP50: 1,
      sendErrors: 0,
    },
    idle: {
      seconds: 20,
      clientCpuMsPerS: 1.5,
      brokerCpuMsPerS: 90,
      clientCpuMsPerSMedianSlice: 1,
      brokerCpuMsPerSMedianSlice: 80,
      connections: 2,
      segmentsPerS: 4,
    },
    rssMiB: 120,
  };
}

describe('summarizeRuns and the report', () => {
  const runs = [
    run('kafkajs', 1, 40, 2),
    run('confluent', 1, 20, 8),
    run('kafkajs', 2, 60, 4),
    run('confluent', 2, 30, null),
  ];

  it('averages each client over its rounds and compares it with kafkajs', () => {
    const { reference, rows } = summarizeRuns(runs, ['kafkajs', 'confluent']);
    expect(reference).toBe('kafkajs');
    const cpu = rows.find((r) => r.label === 'produce CPU ms/1k')!;
    expect(cpu.byClient).toEqual([
      { mean: 50, ratio: 1 },
      { mean: 25, ratio: 0.5 },
    ]);
    // A round without a p50 (too many probes missing) is left out of the mean, not counted as 0.
    expect(rows.find((r) => r.label === 'latency p50 ms')!.byClient[1]).toEqual({ mean: 8, ratio: 8 / 3 });
  });

  it('compares with the first client when kafkajs did not run', () => {
    expect(summarizeRuns([run('confluent', 1, 20, 8)], ['platformatic', 'confluent']).reference).toBe(
      'confluent',
    );
  });

  it('renders each run and the means with ratios', () => {
    const text = renderKafkaClientsReport({
      startedAt: '2026-12-01T00:00:00.000Z',
      node: 'v20.20.2',
      loadavg: [1, 2, 3],
      args: {
        messages: 1000,
        size: 500,
        clients: ['kafkajs', 'confluent'],
        rounds: 2,
        batch: 250,
        keys: 1000,
        latency: 10,
        rate: 200,
        idleS: 20,
        brokers: ['127.0.0.1:9092'],
        partitions: 6,
      },
      brokerPid: 1,
      runs,
      baselines: [{ round: 1, seconds: 20, brokerCpuMsPerS: 80 }],
      failures: [{ client: 'confluent', round: 3, error: 'boom' }],
    });
    expect(text).toContain('| kafkajs 1.0.0 #1 |');
    expect(text).toContain('| produce CPU ms/1k ');
    expect(text).toContain('25.0 (0.50×)');
    expect(text).toContain('6 (167)');
    expect(text).toContain('80.0 ms/s');
    expect(text).toContain('FAILED: confluent round 3: boom');
  });
});
