export { dropTestDatabase } from './databases';
export * from './dispatch-api';
export { type EventuallyOptions, eventually } from './eventually';
export { commitGroupAtEnd, committedOffsets, deleteGroups, groupState } from './kafka-groups';
export {
  localRedisAnswers,
  startLocalPostgres,
  startLocalRedis,
  stopLocalPostgres,
  stopLocalRedis,
} from './local-services';
export {
  type ExtraInstance,
  freePort,
  killService,
  requireRunningServices,
  restartService,
  restartServiceWithEnv,
  startExtraInstance,
  waitForReady,
} from './processes';
export {
  REPO_ROOT,
  SERVICE_NAMES,
  SERVICE_PORTS,
  type ServiceName,
  serviceUrl,
  serviceUrlVariable,
  stackDir,
} from './services';
export { openSse, type SseClient, type SseFrame } from './sse';
export { type StackAddresses, stackAddresses } from './stack';
export { localJwtSecret, tokenFor } from './tokens';
