import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { SERVICE_NAME, webhookConfigSchema } from './config';
import { webhookService } from './service';

runMain(SERVICE_NAME, () => startService(webhookService(loadConfig(SERVICE_NAME, webhookConfigSchema))));
