import { readFileSync } from 'node:fs';
import { brokerAuthProblems, parseProperties } from './kafka-broker';
import { repoPath } from './paths';

const local = readFileSync(repoPath('infra', 'local', 'kafka', 'server.properties'), 'utf8');

test("the local stack's broker config passes (the reference compose and the dev overlay are held to)", () => {
  expect(brokerAuthProblems(parseProperties(local))).toEqual([]);
});

test('catches every way to let an anonymous client in or to decide without ACLs', () => {
  const broken = parseProperties(
    `${local}
listeners=PLAINTEXT://:9094,CLIENT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
allow.everyone.if.no.acl.found=true
super.users=User:admin;User:controller;User:order-service
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
`,
  );
  delete broken['authorizer.class.name'];
  expect(brokerAuthProblems(broken)).toEqual([
    'listener PLAINTEXT is PLAINTEXT, not SASL_PLAINTEXT/SASL_SSL',
    'listener CLIENT is PLAINTEXT, not SASL_PLAINTEXT/SASL_SSL',
    'authorizer is unset, not StandardAuthorizer',
    'allow.everyone.if.no.acl.found is not false',
    'super.users is User:admin;User:controller;User:order-service, not User:admin;User:controller',
    'listener.name.client.scram-sha-512.sasl.jaas.config: a credential in a committed file',
  ]);
});

test('a SASL listener that takes another mechanism than SCRAM-SHA-512 is a problem too', () => {
  const plain = parseProperties(
    `${local}\nlistener.name.client.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n`,
  );
  expect(brokerAuthProblems(plain)).toEqual(['listener CLIENT takes PLAIN,SCRAM-SHA-512, not SCRAM-SHA-512']);
});
