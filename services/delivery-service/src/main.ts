import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { deliveryConfigSchema, SERVICE_NAME } from './config';
import { deliveryService } from './service';

runMain(SERVICE_NAME, () => startService(deliveryService(loadConfig(SERVICE_NAME, deliveryConfigSchema))));
