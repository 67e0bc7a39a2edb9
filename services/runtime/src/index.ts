// The shared runtime every service stands on: config, logging, event log, ClickHouse, HTTP, metrics, keys.
export * from './pages';
export * from './config';
export * from './logger';
export * from './errors';
export * from './clickhouse';
export * from './tab-separated';
export * from './query-names';
export * from './migrations';
export * from './retention';
export * from './metrics';
export * from './http';
export * from './openapi';
export * from './shutdown';
export * from './keys';
export * from './auth';
export * from './log/index';
export * from './poll';
