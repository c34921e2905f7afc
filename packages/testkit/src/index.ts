export {
  cassandraTestCredentials,
  LOCAL_CASSANDRA_ADMIN_ROLE,
  localCassandraAdminPasswordFile,
} from './cassandra-auth';
export {
  createTestDatabase,
  dropTestDatabase,
  shortId,
  type TestDatabase,
  type TestDatabaseOptions,
  testPgConfig,
  uniqueName,
} from './databases';
export * from './dispatch-api';
export { batchFeeder, consumedEvent, orderCreatedEvent } from './events';
export { type EventuallyOptions, eventually } from './eventually';
export { FaultProxy } from './fault-proxy';
export { type InProcessService, startInProcess, testServiceEnv } from './in-process';
export { readsDuring, SEQUENTIAL_SCANS, type TableReads } from './index-reads';
export { kafkajsConnection, LOCAL_KAFKA_ADMIN, localKafkaPasswordFile, stackKafka } from './kafka-auth';
export {
  commitGroupAtEnd,
  committedOffsets,
  deleteGroups,
  groupState,
  groupsStartingWith,
} from './kafka-groups';
export { createTestLogger } from './logger';
export { type MetricSource, metricValue } from './metrics';
export { type OutboxRow, outboxOf } from './outbox';
export {
  type ExtraInstance,
  freePort,
  killServer,
  killService,
  requireRunningServices,
  restartService,
  restartServiceWithEnv,
  type ServerName,
  startExtraInstance,
  startServers,
  waitForReady,
} from './processes';
export { type RawProducer, rawProducer } from './raw-producer';
export { assertReachable, assertStackReachable, type StackServer } from './reachability';
export {
  REPO_ROOT,
  SERVICE_NAMES,
  SERVICE_PORTS,
  type ServiceName,
  serviceUrl,
  serviceUrlVariable,
  stackDir,
} from './services';
export { openSse, reopenSse, type SseClient, type SseFrame } from './sse';
export { type StackAddresses, stackAddresses } from './stack';
export { createTestIssuer, localSigningKey, localSigningKeysFile, type TestIssuer, tokenFor } from './tokens';
export { type ReceivedRequest, type Responder, WebhookReceiver } from './webhook-receiver';
