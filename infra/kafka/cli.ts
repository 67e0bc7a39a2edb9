// `pnpm kafka start`: runs the no-Docker local Kafka in the foreground and prints its bootstrap address.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startLocalKafka } from './local-kafka';

const usage = `Usage: pnpm kafka start [--data-dir DIR] [--verbose]

Starts a single-node Apache Kafka 3.9 (KRaft) on 127.0.0.1 with the machine's Java,
using jars that Maven downloads from Maven Central into infra/kafka/.cache/ on the first run.
Prints KAFKA_BROKERS=127.0.0.1:PORT on stdout once the broker takes writes, and keeps
running until Ctrl-C (SIGINT) or SIGTERM.

Options:
  --data-dir DIR  keep the broker's data in DIR across runs (default: a temp dir removed on exit)
  --verbose       also print the broker's own log lines on stderr
  -h, --help      show this help

Needs: java (17+) and mvn (3.8+) on PATH. See infra/README.md.
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(usage);
    return values.help ? 0 : 1;
  }
  if (positionals[0] !== 'start' || positionals.length > 1) {
    process.stderr.write(`Unknown command: ${positionals.join(' ')}\n\n${usage}`);
    return 1;
  }

  // Logs go to stderr, so stdout carries only the KAFKA_BROKERS line that scripts can eval.
  const logger = pino({ name: 'local-kafka', level: values.verbose ? 'debug' : 'info' }, pino.destination(2));
  const kafka = await startLocalKafka({ logger, ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}) });
  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info({ signal }, 'stopping local Kafka');
  await kafka.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
