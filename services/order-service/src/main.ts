import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { orderConfigSchema, SERVICE_NAME } from './config';
import { orderService } from './service';

runMain(SERVICE_NAME, () => startService(orderService(loadConfig(SERVICE_NAME, orderConfigSchema))));
