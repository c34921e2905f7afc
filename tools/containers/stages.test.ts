import { failureLine, INIT_JOB_RETRIES } from './stages';

describe('failureLine', () => {
  test("a job's last exception or error, not the stack frames after it", () => {
    const log = [
      'Created topic raw.order-events.',
      'org.apache.kafka.common.KafkaException: Failed to create new KafkaAdminClient',
      '\tat org.apache.kafka.clients.admin.KafkaAdminClient.createInternal(KafkaAdminClient.java:573)',
      'Caused by: org.apache.kafka.common.config.ConfigException: No resolvable bootstrap urls given in bootstrap.servers',
      '\tat org.apache.kafka.clients.ClientUtils.parseAndValidateAddresses(ClientUtils.java:104)',
      '\t... 6 more',
    ].join('\n');
    expect(failureLine(log)).toBe(
      'Caused by: org.apache.kafka.common.config.ConfigException: No resolvable bootstrap urls given in bootstrap.servers',
    );
  });

  test('else the last line, or says there was none', () => {
    expect(failureLine('one\ntwo\n\n')).toBe('two');
    expect(failureLine('')).toBe('(no log)');
    expect(INIT_JOB_RETRIES).toBe(2);
  });
});
