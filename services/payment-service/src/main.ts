import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { paymentEnvSchema } from './config';
import { paymentService, SERVICE_NAME } from './service';

runMain(SERVICE_NAME, () => startService(paymentService(loadConfig(SERVICE_NAME, paymentEnvSchema))));
