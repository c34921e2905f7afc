import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { paymentConfigSchema, SERVICE_NAME } from './config';
import { paymentService } from './service';

runMain(SERVICE_NAME, () => startService(paymentService(loadConfig(SERVICE_NAME, paymentConfigSchema))));
