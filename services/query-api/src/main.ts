import './instrument';
import { loadConfig, runMain } from '@dispatch/platform';
import { queryApiConfigSchema, SERVICE_NAME } from './config';
import { startQueryApi } from './service';

runMain(
  SERVICE_NAME,
  async () => (await startQueryApi(loadConfig(SERVICE_NAME, queryApiConfigSchema))).service,
);
