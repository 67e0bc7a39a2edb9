// Every data shape of the platform: HTTP message schemas, Avro event codec, ClickHouse migrations folder.
export * from './messages';
export * from './event';
export * from './identity';

/** Folder of the ordered ClickHouse migrations (NNNN_name.sql). */
export const clickhouseMigrationsDir = new URL('../clickhouse/', import.meta.url);
