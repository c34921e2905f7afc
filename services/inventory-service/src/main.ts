import './instrument';
import { loadConfig, runMain, startService } from '@dispatch/platform';
import { inventoryConfigSchema, SERVICE_NAME } from './config';
import { inventoryService } from './service';

runMain(SERVICE_NAME, () => startService(inventoryService(loadConfig(SERVICE_NAME, inventoryConfigSchema))));
