// `cdp import FILE`: customers and events from a CSV or NDJSON file, sent through the tracking API like live traffic.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isSendError } from '../send/post-batch';
import { createProgress, perSecond } from '../send/progress';
import { resolveMapping, type Mapping } from './mapping';
import { formatOf, type FileFormat } from './records';
import { isImportError, runImport, type ImportOutcome } from './run';
import { defaultRejectPath, defaultStatePath } from './state';

export const importHelp = `cdp import — send customers (identify) or events (track) from a CSV or NDJSON file to a running platform

Usage:
  cdp import FILE [--kind identify|track] [--map MAPPING.json] [--column SOURCE=DEST[:TYPE] …] [--event NAME]
                  [--country CC] [--format csv|ndjson] [--url URL] [--write-key KEY] [--reject FILE] [--state FILE]
                  [--batch N] [--concurrency N] [--gzip] [--restart]

Options:
  --kind identify|track     each row is a customer's traits (identify) or an event with properties (track)
                            (default: the mapping file's kind, else identify)
  --map FILE                a JSON mapping: {"kind", "event", "country", "columns": {SOURCE: DEST | null |
                            {"to": DEST, "type": TYPE}}, "unmapped": "keep"|"drop"}
  --column SOURCE=DEST[:TYPE]
                            map a column (repeatable, over --map): DEST is userId, anonymousId, email, phone,
                            timestamp, event, or the name of a trait (identify) or property (track); an empty DEST
                            leaves the column out; TYPE is string, number, boolean or date
  --event NAME              the event name of every row of a track import (or of rows whose event column is empty)
  --country CC              read phone numbers without a country code as this country's (e.g. VN: 0912 345 678)
  --format csv|ndjson       the file's format (default: from its extension, .csv, .ndjson or .jsonl)
  --url URL                 the platform (default: http://127.0.0.1:PORT, PORT or 8080)
  --write-key KEY           a write key (default: CDP_WRITE_KEY)
  --reject FILE             where refused rows go, with their line and reason (default: FILE.rejects.csv|ndjson)
  --state FILE              where progress is kept between runs (default: FILE.import-state.json)
  --batch N                 rows per request (default: 500; fewer when a request would pass 400 KB)
  --concurrency N           requests in flight at once (default: 4)
  --gzip                    gzip each request, as RudderStack's SDKs do (for a platform across a slow network)
  --restart                 forget an earlier run's progress and send the file from its first row
  -h, --help                show this help

Columns named userId / user_id, anonymousId, email, phone, timestamp and (track) event mean those without a mapping;
every other column becomes a trait or property under its own name unless mapped or "unmapped": "drop". Every row
needs a userId, anonymousId, email or phone; one with only an email or phone gets an anonymousId derived from it.
Dates: 2024-12-31, 2024-12-31T08:30:00+07:00 (no offset: UTC) or 31/12/2024 (day first). Rows that cannot be read,
lack a customer, hold a value that is not of its column's type, or that the API refuses go to the reject file; the
import goes on. Each row's messageId comes from the file's content and the row's line, so a rerun or a resumed run
stores no row twice. Ctrl-C stops after the requests in flight; run the same command again to resume.
`;

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      map: { type: 'string' },
      column: { type: 'string', multiple: true },
      event: { type: 'string' },
      country: { type: 'string' },
      format: { type: 'string' },
      url: { type: 'string' },
      'write-key': { type: 'string' },
      reject: { type: 'string' },
      state: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      gzip: { type: 'boolean' },
      restart: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const wholeNumber = (text: string | undefined, fallback: number, max: number) =>
  text === undefined
    ? fallback
    : /^\d+$/.test(text.trim()) && Number(text) >= 1 && Number(text) <= max
      ? Number(text)
      : Number.NaN;

function mappingOf(values: ReturnType<typeof parse>['values']): { mapping: Mapping } | { problems: string[] } {
  let file: unknown;
  if (values.map !== undefined) {
    try {
      file = JSON.parse(readFileSync(values.map, 'utf8'));
    } catch (error) {
      return { problems: [`--map ${values.map}: ${(error as Error).message}`] };
    }
  }
  return resolveMapping(file, {
    kind: values.kind,
    event: values.event,
    country: values.country,
    columns: values.column,
  });
}

function summary(outcome: ImportOutcome, file: string, seconds: number): string {
  if (outcome.status === 'already-done') {
    return `${file} was imported completely before (${outcome.accepted} rows accepted, ${outcome.rejected} rejected); nothing to send.\nPass --restart to send it again: rows keep their messageIds, so no row is stored twice.`;
  }
  const resumed = outcome.resumedAfter !== null ? ` (resumed after line ${outcome.resumedAfter})` : '';
  const rate = outcome.rows > 0 ? `, ${Math.round(outcome.rows / Math.max(0.001, seconds))} rows/s` : '';
  const rejects = outcome.rejected > 0 ? `; rejected rows with their line and reason: ${outcome.rejectPath}` : '';
  return `${outcome.status === 'done' ? 'Imported' : 'Stopped importing'} ${file}${resumed}: ${outcome.accepted} rows accepted, ${outcome.rejected} rejected in all; ${outcome.rows} this run in ${seconds.toFixed(1)} s${rate}${rejects}.`;
}

export async function importCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    err(`${error instanceof Error ? error.message : String(error)}\n\n${importHelp}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(importHelp);
    return 0;
  }
  const problems: string[] = [];
  const [file, ...extra] = positionals;
  if (!file) problems.push('name the file to import: cdp import FILE');
  if (extra.length > 0) problems.push(`one file at a time (got ${positionals.length})`);
  const format = (values.format ?? (file ? formatOf(file) : 'csv')) as FileFormat | null;
  if (format !== 'csv' && format !== 'ndjson')
    problems.push(
      values.format
        ? `--format ${values.format}: csv or ndjson`
        : `cannot tell the format of ${file}: pass --format csv or --format ndjson`,
    );
  const batchRows = wholeNumber(values.batch, 500, 10_000);
  if (Number.isNaN(batchRows)) problems.push('--batch must be a whole number from 1 to 10000');
  const concurrency = wholeNumber(values.concurrency, 4, 64);
  if (Number.isNaN(concurrency)) problems.push('--concurrency must be a whole number from 1 to 64');
  const url = (values.url ?? `http://127.0.0.1:${env.PORT || 8080}`).replace(/\/+$/, '');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    problems.push(`--url must be an http(s) URL, got ${url}`);
  const mapped = mappingOf(values);
  if ('problems' in mapped) problems.push(...mapped.problems);
  const writeKey = values['write-key'] ?? env.CDP_WRITE_KEY;
  if (!writeKey) problems.push('a write key is required: pass --write-key KEY or set CDP_WRITE_KEY');
  if (problems.length > 0 || !file || 'problems' in mapped || !writeKey || (format !== 'csv' && format !== 'ndjson')) {
    err(`cdp import: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}`);
    return 1;
  }

  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) {
      abort.abort(new Error('stopped by a second signal'));
      return;
    }
    stop.abort(new Error('stopped by a signal'));
    err(
      '\ncdp import: stopping after the requests in flight (Ctrl-C again to stop at once; acknowledged rows stay saved)',
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = createProgress<{ rows: number; speed: number; accepted: number; rejected: number }>({
    barFormat:
      'import [{bar}] {percentage}% | {rows} rows | {speed} rows/s | {accepted} accepted | {rejected} rejected | ETA {eta_formatted}',
    line: (bytes, size, { rows, speed, accepted, rejected }) =>
      `import: ${Math.floor((bytes / Math.max(1, size)) * 100)}% of ${file} read, ${rows} rows this run (${speed} rows/s), ${accepted} accepted, ${rejected} rejected`,
    plainEvery: 5_000,
  });
  const startedAt = Date.now();
  try {
    const outcome = await runImport({
      file,
      format,
      mapping: mapped.mapping,
      url,
      writeKey,
      rejectPath: values.reject ?? defaultRejectPath(file, format),
      statePath: values.state ?? defaultStatePath(file),
      batchRows,
      concurrency,
      gzip: values.gzip ?? false,
      restart: values.restart ?? false,
      stop: stop.signal,
      abort: abort.signal,
      onProgress: (now) =>
        progress.update(now.bytes, now.size, {
          rows: now.rows,
          speed: perSecond(now.rows, startedAt),
          accepted: now.accepted,
          rejected: now.rejected,
        }),
      onRetry: (reason, waitMs) => err(`cdp import: ${reason}; trying again in ${(waitMs / 1000).toFixed(1)} s`),
    });
    progress.stop();
    out(summary(outcome, file, (Date.now() - startedAt) / 1000));
    if (outcome.status === 'stopped') {
      err(
        `cdp import: stopped after line ${outcome.line}. Run the same command again to resume; no row is stored twice.`,
      );
      return 130;
    }
    return 0;
  } catch (error) {
    progress.stop();
    if (isImportError(error)) err(`cdp import: ${error.message}`);
    else if (isSendError(error))
      err(
        `cdp import: ${error.message}\nProgress up to the last acknowledged request is saved: run the same command again to resume.`,
      );
    else err(`cdp import: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
