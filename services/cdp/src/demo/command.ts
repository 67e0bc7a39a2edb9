// `cdp demo`: sends a generated Vietnamese multi-channel customer history to a running platform, over HTTP only.
import { parseArgs } from 'node:util';
import { demoOptionProblems } from './generate';
import { createProgress, perSecond } from '../send/progress';
import { isDemoSendError, sendDemo } from './send';

export const demoHelp = `cdp demo — send a demo customer base to a running platform through its tracking API

Usage:
  cdp demo [--customers N] [--months M] [--seed S] [--url URL] [--write-key KEY]

Options:
  --customers N             customers to make up (default: 2000)
  --months M                months of history, ending now (default: 6)
  --seed S                  the same seed gives the same customers and messageIds (default: 1)
  --url URL                 the platform (default: http://127.0.0.1:PORT, PORT or 8080)
  --write-key KEY           a write key (default: CDP_WRITE_KEY)
  -h, --help                show this help

Vietnamese customers on the web, in the app, in store, by email, SMS, phone, chat and social, with orders in VND,
tickets, NPS and CSAT. Only HTTP: run it beside \`cdp start\`, which keeps its data directory. Sending the same demo
again adds nothing, as every message keeps its messageId.
`;

const missingKey =
  'a write key is required: pass --write-key KEY or set CDP_WRITE_KEY.\n' +
  '`cdp start` prints a write key on its first start (start it with CDP_WRITE_KEY=… to choose one), and\n' +
  '`cdp keys create --source demo --kind write` makes another (with `cdp start` stopped, on the embedded runtime).\n';

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

/** A whole number as typed, NaN for anything else (so the option check names it). */
const wholeNumber = (text: string | undefined, fallback: number) =>
  text === undefined ? fallback : /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      customers: { type: 'string' },
      months: { type: 'string' },
      seed: { type: 'string' },
      url: { type: 'string' },
      'write-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

export async function demoCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    err(`${error instanceof Error ? error.message : String(error)}\n\n${demoHelp}`);
    return 1;
  }
  if (values.help) {
    out(demoHelp);
    return 0;
  }
  const options = {
    customers: wholeNumber(values.customers, 2000),
    months: wholeNumber(values.months, 6),
    seed: wholeNumber(values.seed, 1),
  };
  const problems = demoOptionProblems(options);
  const url = (values.url ?? `http://127.0.0.1:${env.PORT || 8080}`).replace(/\/+$/, '');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    problems.push(`url must be an http(s) URL, got ${url}`);
  if (problems.length > 0) {
    err(`cdp demo: ${problems.join('; ')}`);
    return 1;
  }
  const writeKey = values['write-key'] ?? env.CDP_WRITE_KEY;
  if (!writeKey) {
    process.stderr.write(`cdp demo: ${missingKey}`);
    return 1;
  }

  err(`cdp demo: ${options.customers} customers, ${options.months} months up to now, seed ${options.seed} → ${url}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error('stopped by a signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = createProgress<{ speed: number }>({
    barFormat: 'demo [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}',
    line: (sent, total, { speed }) =>
      `demo: ${sent}/${total} events sent (${Math.floor((sent / Math.max(1, total)) * 10) * 10}%), ${speed} events/s`,
    plainEvery: 'tenth',
  });
  const startedAt = Date.now();
  // Timed from the first report, when sending starts (generating comes before it).
  let sendingSince = 0;
  const onProgress = (sent: number, total: number) => {
    if (sendingSince === 0) sendingSince = Date.now();
    progress.update(sent, total, { speed: perSecond(sent, sendingSince) });
  };
  try {
    const result = await sendDemo({ url, writeKey, ...options, onProgress, signal: stop.signal });
    progress.stop();
    const seconds = (Date.now() - startedAt) / 1000;
    out(
      `Sent ${result.messages} events of ${result.customers} customers in ${seconds.toFixed(1)} s (${Math.round(result.messages / seconds)} events/s).`,
    );
    out('The resolver turns them into profiles, segments and analytics in the background, within moments.');
    out(`Console: ${url}/console/ (sign in with a read key)`);
    return 0;
  } catch (error) {
    progress.stop();
    if (stop.signal.aborted) {
      err('cdp demo: stopped. Sending the same demo again completes it; what was sent already is not counted twice.');
      return 130;
    }
    err(
      `cdp demo: ${isDemoSendError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
