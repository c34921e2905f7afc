import './instrument';
import { loadConfig, runMain } from '@dispatch/platform';
import { queryApiEnv, SERVICE_NAME } from './config';
import { startQueryApi } from './service';

runMain(SERVICE_NAME, async () => (await startQueryApi(loadConfig(SERVICE_NAME, queryApiEnv))).service);
