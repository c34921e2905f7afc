import type { ClientBase, Pool } from 'pg';

/** A pool (single statements) or a transaction's client. */
export type Db = Pool | ClientBase;
