// Sizes libuv's thread pool before anything starts it: chDB runs every query on that pool, whose default of four
// threads would let only four of the store's connections (CDP_CHDB_CONNECTIONS, 8 by default) work at once, with the
// log's file reads and gzip waiting behind them. Required first by the cdp command, and preloaded (`--require`) by
// the scripts that start the platform in their own process. An ES module is too late for this: loading one has
// started the pool. UV_THREADPOOL_SIZE, when set, is kept.
const connections = Number.parseInt(process.env.CDP_CHDB_CONNECTIONS ?? '', 10);
process.env.UV_THREADPOOL_SIZE ??= String((Number.isInteger(connections) && connections > 0 ? connections : 8) + 4);
