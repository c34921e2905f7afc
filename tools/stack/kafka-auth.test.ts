import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StackConfig } from './config';
import { hasStaleKafkaLogin, kafkaPasswordFile } from './kafka-auth';
import { ensureGeneratedPassword } from './secrets';
import { killSleepers, sleeper } from './test/sleeper';

describe('hasStaleKafkaLogin (up restarts a service started with an old Kafka password)', () => {
  let secretsDir: string;
  let local: StackConfig['kafka'];
  beforeEach(() => {
    secretsDir = mkdtempSync(path.join(tmpdir(), 'kafka-secrets-'));
    local = { brokers: ['127.0.0.1:9092'], local: true, partitions: 3, replicationFactor: 1, secretsDir };
  });
  afterEach(() => {
    killSleepers();
    rmSync(secretsDir, { recursive: true, force: true });
  });

  it('is stale when the process logs in with another password than its file holds, or with none', async () => {
    const { password } = ensureGeneratedPassword(kafkaPasswordFile(secretsDir, 'order-service'));
    const current = await sleeper({ KAFKA_SASL_PASSWORD: password });
    const rotated = await sleeper({ KAFKA_SASL_PASSWORD: 'an-old-password-0123456789' });
    const anonymous = await sleeper({});
    expect(hasStaleKafkaLogin(current.pid!, local, 'order-service')).toBe(false);
    expect(hasStaleKafkaLogin(rotated.pid!, local, 'order-service')).toBe(true);
    expect(hasStaleKafkaLogin(anonymous.pid!, local, 'order-service')).toBe(true);
  });

  it('assumes nothing for an external Kafka, a principal without a password file, or an unreadable process', async () => {
    const anonymous = await sleeper({});
    expect(hasStaleKafkaLogin(anonymous.pid!, { ...local, local: false }, 'order-service')).toBe(false);
    expect(hasStaleKafkaLogin(anonymous.pid!, local, 'order-service')).toBe(false);
    ensureGeneratedPassword(kafkaPasswordFile(secretsDir, 'order-service'));
    expect(hasStaleKafkaLogin(2 ** 22 + 12345, local, 'order-service')).toBe(false);
  });
});
