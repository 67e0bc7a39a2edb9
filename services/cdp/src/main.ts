// The cdp command line: start the platform or one service, manage keys, send demo data.
import { parseArgs } from 'node:util';
import {
  ConfigError,
  createLogger,
  initialKeyScopes,
  loadConfig,
  onShutdownSignal,
  parseScopes,
  scopes,
  type Scope,
} from '@cdp/runtime';
import { allServices, openStore, startPlatform, type ServiceName } from './platform';

const help = `cdp — an event-driven customer data platform

Usage:
  cdp start                 run every service in one process (ingest + resolver + query API on one port + segments
                            + destinations)
  cdp ingest                run only the ingest API
  cdp resolver              run only the resolver (HTTP: /healthz, /readyz, /metrics only)
  cdp query-api             run only the query API
  cdp segments              run only the segments evaluator (HTTP: /healthz, /readyz, /metrics only)
  cdp destinations          run only the destinations (webhooks): trigger consumer, dispatcher, /v1/destinations
  cdp keys list             list keys (prefix, scopes, source, created, expires, revoked)
  cdp keys create --source NAME --scope SCOPES [--expires TIME]
                            create a key with comma-separated scopes (write, trusted, analytics, profiles,
                            audiences, segments:write, admin), or --kind write|read|admin for the usual sets
                            (write = write,trusted: a server's key; a browser's is --scope write, whose emails
                            and phones link no profiles); TIME is an ISO date or date-time (UTC without an
                            offset), after which the key is refused
  cdp keys revoke PREFIX    revoke the keys listed with that prefix
  cdp demo [--customers N] [--months M] [--seed S] [--url URL] [--write-key KEY]
                            send demo customers (Vietnamese, every channel) to a running platform over HTTP
                            (defaults: 2000 customers, 6 months, seed 1, http://127.0.0.1:PORT, CDP_WRITE_KEY)
  cdp import FILE [--kind identify|track] [--map MAPPING.json] [--column SOURCE=DEST[:TYPE]] [--event NAME] …
                            send customers or events from a CSV or NDJSON file to a running platform over HTTP,
                            resumable, bad rows to a reject file (\`cdp import --help\` lists every option)

Options:
  --port N                  HTTP port (default: PORT or 8080)
  --data-dir DIR            data directory of the embedded runtime (default: CDP_DATA_DIR or ./.cdp-data)
  -h, --help                show this help

Without KAFKA_BROKERS the event log is embedded on disk under the data directory; without CLICKHOUSE_URL
ClickHouse runs in process (chDB) under the data directory. With them set, the services use those servers.
The embedded runtime belongs to one process: stop \`cdp start\` before \`cdp keys\` on the same data directory.
On first start a write, a read and an admin key are created and printed; CDP_WRITE_KEY / CDP_READ_KEY /
CDP_ADMIN_KEY seed them (at least 16 characters each).
Every environment variable is listed in the README.
`;

const print = (text: string) => process.stdout.write(`${text}\n`);

async function main(argv: string[]): Promise<number> {
  // A pure HTTP client with options of its own: it reads no platform config and opens no data directory.
  if (argv[0] === 'demo') {
    const { demoCommand } = await import('./demo/command');
    return demoCommand(argv.slice(1), process.env);
  }
  if (argv[0] === 'import') {
    const { importCommand } = await import('./import/command');
    return importCommand(argv.slice(1), process.env);
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      source: { type: 'string' },
      kind: { type: 'string' },
      scope: { type: 'string' },
      expires: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command || command === 'help') {
    print(help);
    return command || values.help ? 0 : 1;
  }
  const env = { ...process.env };
  if (values.port) env.PORT = values.port;
  if (values['data-dir']) env.CDP_DATA_DIR = values['data-dir'];
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });

  if (command === 'keys') return keysCommand(rest, values, config, logger);
  const services: ServiceName[] | undefined =
    command === 'start'
      ? allServices
      : (['ingest', 'resolver', 'query-api', 'segments', 'destinations'] as const).includes(command as ServiceName)
        ? [command as ServiceName]
        : undefined;
  if (!services) {
    process.stderr.write(`unknown command: ${command}\n\n${help}`);
    return 1;
  }
  const platform = await startPlatform(config, logger, services);
  onShutdownSignal({ logger, timeoutMs: config.shutdownTimeoutMs, close: () => platform.close() });
  print(`cdp ${services.join(' + ')} running at ${platform.url}`);
  print(`  event log: ${platform.log ? platform.log.kind : 'none'}; ClickHouse: ${platform.clickhouse.kind}`);
  if (platform.createdKeys.write) print(`  write key (created now, keep it): ${platform.createdKeys.write}`);
  if (platform.createdKeys.read) print(`  read key (created now, keep it):  ${platform.createdKeys.read}`);
  if (platform.createdKeys.admin) print(`  admin key (created now, keep it): ${platform.createdKeys.admin}`);
  if (services.includes('query-api')) print(`  console: ${platform.url}/console/ (sign in with a read key)`);
  if (services.includes('ingest'))
    print(`  demo data: pnpm exec cdp demo --url ${platform.url} --write-key <a write key>`);
  return -1;
}

const keysUsage = `usage: cdp keys list | create --source NAME (--scope SCOPES | --kind write|read|admin) [--expires TIME] | revoke PREFIX
scopes: ${scopes.join(', ')}\n`;

/** The scopes a `keys create` asks for: --scope as listed, or --kind as the first start makes them. */
function requestedScopes(values: { scope?: string; kind?: string }): readonly Scope[] {
  if (values.scope !== undefined && values.kind !== undefined) throw new Error('give --scope or --kind, not both');
  if (values.scope !== undefined) return parseScopes(values.scope);
  if (values.kind !== undefined && values.kind in initialKeyScopes)
    return initialKeyScopes[values.kind as keyof typeof initialKeyScopes];
  throw new Error(
    values.kind === undefined ? 'name the scopes with --scope' : `unknown kind ${values.kind}: write, read or admin`,
  );
}

/** Epoch milliseconds of --expires: an ISO date or date-time, read as UTC when it has no offset; it must be ahead. */
function expiryOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const utc = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?)?$/.test(text)
    ? text.includes('T')
      ? `${text}Z`
      : text
    : text;
  const time = Date.parse(utc);
  if (Number.isNaN(time))
    throw new Error(`--expires ${text} is not an ISO date or date-time such as 2027-01-31 or 2027-01-31T18:00+07:00`);
  if (time <= Date.now()) throw new Error(`--expires ${text} is already past`);
  return time;
}

async function keysCommand(
  args: string[],
  values: { source?: string; kind?: string; scope?: string; expires?: string },
  config: ReturnType<typeof loadConfig>,
  logger: ReturnType<typeof createLogger>,
): Promise<number> {
  const [action, prefix] = args;
  let created: { source: string; scopes: readonly Scope[]; expiresAt: number | undefined } | null = null;
  if (action === 'create') {
    try {
      if (!values.source) throw new Error("name the key's source with --source");
      created = { source: values.source, scopes: requestedScopes(values), expiresAt: expiryOf(values.expires) };
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n${keysUsage}`);
      return 1;
    }
  } else if (action !== 'list' && !(action === 'revoke' && prefix)) {
    process.stderr.write(keysUsage);
    return 1;
  }
  const { clickhouse, keys } = await openStore(config, logger);
  try {
    if (created) {
      const { expiresAt, ...key } = created;
      print(await keys.create(expiresAt === undefined ? key : { ...key, expiresAt }));
      return 0;
    }
    if (action === 'list') {
      for (const key of await keys.list()) {
        const expiry = key.expiresAt ? `  expires ${key.expiresAt}` : '';
        print(
          `${key.prefix}…  ${key.scopes.join(',')}  ${key.source}  ${key.createdAt}${expiry}${key.revoked ? '  revoked' : ''}`,
        );
      }
      return 0;
    }
    const count = await keys.revoke((prefix as string).replace(/…$/, ''));
    print(`revoked ${count} key(s)`);
    return count > 0 ? 0 : 1;
  } finally {
    await clickhouse.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // -1: a long-running service; it ends through its signal handler.
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else
      process.stderr.write(
        `cdp failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  },
);
