/**
 * kafkajs 2.2.4 on Node 24: unpatched, every connection prints a TimeoutNegativeWarning (kafkajs
 * #1751: the request queue arms a timer at `throttledUntil - now`, a large negative number, when
 * nothing is pending). patches/kafkajs@2.2.4.patch returns instead. Proven the way the services
 * run: the Node the launcher starts them with, plain `node` (no tsx), against the real broker.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { kafkajsConnection, stackAddresses } from '@dispatch/testkit';
import { serviceNode } from '../node';
import { stackPaths } from '../paths';

// Admin, producer and a consumer group member connect, idle past a few fetch rounds, and leave.
const CLIENT = `
const { Kafka, logLevel } = require('kafkajs');
(async () => {
  const kafka = new Kafka({ ...JSON.parse(process.env.CONNECTION), clientId: 'kafkajs-node24-check', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = (await admin.listTopics()).find((t) => t.startsWith('raw.'));
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: process.env.GROUP_ID, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({ eachMessage: async () => {} });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteGroups([process.env.GROUP_ID]).catch(() => {});
  await admin.disconnect();
  console.log(JSON.stringify({ node: process.versions.node, topic }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

test('the patched kafkajs prints no TimeoutNegativeWarning on the services Node', async () => {
  const node = serviceNode(stackPaths());
  const child = spawn(node, ['--trace-warnings', '-e', CLIENT], {
    // kafkajs as the tools package resolves it (the same patched copy the services load).
    cwd: path.resolve(__dirname, '..', '..'),
    env: {
      PATH: process.env.PATH,
      CONNECTION: JSON.stringify(kafkajsConnection(stackAddresses().kafka)),
      GROUP_ID: `kafkajs-node24-${randomUUID()}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(stdout.trim()) as { node: string; topic: string };
  expect(Number(report.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  expect(report.topic).toMatch(/^raw\./);
}, 60_000);
