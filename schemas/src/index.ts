// Every data shape of the platform: HTTP message schemas, segment rules, Avro codecs, ClickHouse migrations folder.
export * from './messages';
export * from './event';
export * from './identity';
export * from './segments';
export * from './segment-validate';
export * from './segment-change';
export * from './profile-change';
export * from './destinations';

/** Folder of the ordered ClickHouse migrations (NNNN_name.sql). */
export const clickhouseMigrationsDir = new URL('../clickhouse/', import.meta.url);
export * from './analytics';
export * from './analytics-responses';
export * from './zoned-time';
