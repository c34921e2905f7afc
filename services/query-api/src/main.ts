import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { queryApiConfigSchema, SERVICE_NAME } from './config';
import { queryApiService } from './service';

runMain(SERVICE_NAME, () => startService(queryApiService(loadConfig(SERVICE_NAME, queryApiConfigSchema))));
