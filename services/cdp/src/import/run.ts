// `cdp import` as a library: read records → map to messages → batch → POST /v1/batch (a few in flight) → save progress in order.
import { postBatch, type EventProblem } from '../send/post-batch';
import { missingColumns, type Mapping } from './mapping';
import { rowMapper } from './message';
import {
  csvHeader,
  csvRecords,
  ndjsonRecords,
  rawOf,
  type FileFormat,
  type ReadFrom,
  type SourceRecord,
} from './records';
import {
  contentHashOf,
  fileSizeOf,
  openRejectFile,
  readState,
  writeState,
  type ImportState,
  type RejectLine,
} from './state';

export interface ImportOptions {
  file: string;
  format: FileFormat;
  mapping: Mapping;
  /** Base URL of the platform. */
  url: string;
  writeKey: string;
  rejectPath: string;
  statePath: string;
  /** Most rows in one request (fewer when a request would pass maxBatchBytes first). */
  batchRows: number;
  /** Requests in flight at once; default 4. */
  concurrency?: number;
  gzip?: boolean;
  /** Ignore an earlier run's state: send the file from its first row and write the reject file anew. */
  restart?: boolean;
  /** Stops reading: the batches in flight finish and are saved, then the import returns `stopped`. */
  stop?: AbortSignal;
  /** Abandons the batches in flight too; what was acknowledged before is saved. */
  abort?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  onRetry?: (reason: string, waitMs: number) => void;
  /** Attempts per request before a busy or unreachable API stops the import (default 10). */
  maxAttempts?: number;
}

export interface ImportProgress {
  /** Bytes of the file behind the last record read, of `size`. */
  bytes: number;
  size: number;
  /** Rows acknowledged (accepted or rejected) in this run. */
  rows: number;
  /** Over the whole file, this run and the ones it resumes. */
  accepted: number;
  rejected: number;
}

export interface ImportOutcome {
  status: 'done' | 'stopped' | 'already-done';
  accepted: number;
  rejected: number;
  /** Rows acknowledged in this run. */
  rows: number;
  /** The line the import stopped after, or the file's last. */
  line: number;
  /** The line this run started after, when it resumed an earlier one. */
  resumedAfter: number | null;
  rejectPath: string;
  statePath: string;
}

export type ImportErrorCode = 'FILE_UNREADABLE' | 'FILE_CHANGED' | 'STATE_UNREADABLE' | 'MAPPING_MISMATCH';
export type ImportError = Error & { code: ImportErrorCode };

export function importError(code: ImportErrorCode, message: string): ImportError {
  return Object.assign(new Error(message), { code });
}

export function isImportError(error: unknown): error is ImportError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return (
    code === 'FILE_UNREADABLE' || code === 'FILE_CHANGED' || code === 'STATE_UNREADABLE' || code === 'MAPPING_MISMATCH'
  );
}

/** Well under /v1/batch's 500 KB (measured after gzip decoding), so a request is never refused for its size. */
export const maxBatchBytes = 400 * 1024;
/** How often progress is saved while batches are acknowledged (and always when the import ends or stops). */
const saveEveryMs = 200;
/** The API's limit on one event. */
const maxEventBytes = 32 * 1024;

/** The messageId of a record: the file's content, the import's kind and the record's first line; the same on every run. */
export const messageIdPrefix = (sha256: string, kind: string) => `import-${sha256.slice(0, 20)}-${kind}-`;

interface Batch {
  /** The records whose messages the batch carries, in step with `messages`. */
  rows: SourceRecord[];
  messages: string[];
  bytes: number;
  rejects: RejectLine[];
  last: SourceRecord | null;
  sent?: Promise<EventProblem[]>;
}

const emptyBatch = (): Batch => ({ rows: [], messages: [], bytes: 0, rejects: [], last: null });

/** Where reading starts and the records from there, the header checked against the mapping first. */
async function openRecords(options: ImportOptions, resumeAt: ReadFrom | null): Promise<AsyncIterable<SourceRecord[]>> {
  if (options.format === 'ndjson') return ndjsonRecords(options.file, resumeAt ?? { offset: 0, line: 0 });
  const header = await csvHeader(options.file);
  if ('problem' in header) throw importError('FILE_UNREADABLE', `${options.file}: ${header.problem}`);
  const seen = new Set<string>();
  for (const column of header.columns) {
    if (column !== '' && seen.has(column))
      throw importError(
        'MAPPING_MISMATCH',
        `${options.file}: column ${JSON.stringify(column)} appears twice in the header`,
      );
    seen.add(column);
  }
  const missing = missingColumns(options.mapping, header.columns);
  if (missing.length > 0) {
    throw importError(
      'MAPPING_MISMATCH',
      `the mapping names column(s) the file's header lacks: ${missing.map((column) => JSON.stringify(column)).join(', ')} (the header: ${header.columns.map((column) => JSON.stringify(column)).join(', ')})`,
    );
  }
  return csvRecords(
    options.file,
    header.columns,
    resumeAt && resumeAt.offset > header.from.offset ? resumeAt : header.from,
  );
}

function earlierRun(options: ImportOptions, sha256: string): ImportState | null {
  if (options.restart) return null;
  const read = readState(options.statePath);
  if ('problem' in read) throw importError('STATE_UNREADABLE', read.problem);
  const state = read.state;
  if (!state) return null;
  if (state.sha256 !== sha256) {
    throw importError(
      'FILE_CHANGED',
      `${options.file} changed since the import its state file (${options.statePath}) records: its rows would get new messageIds and be stored again. ` +
        'Import the rows that changed as a file of their own, or pass --restart to send this content from its first row.',
    );
  }
  if (state.kind !== options.mapping.kind) {
    throw importError(
      'MAPPING_MISMATCH',
      `the state file ${options.statePath} belongs to a ${state.kind} import of this file; pass --state FILE to keep this one apart, or --restart`,
    );
  }
  return state;
}

export async function runImport(options: ImportOptions): Promise<ImportOutcome> {
  const size = fileSizeOf(options.file);
  if (size === null) throw importError('FILE_UNREADABLE', `${options.file} is not a file that can be read`);
  const sha256 = await contentHashOf(options.file);
  const earlier = earlierRun(options, sha256);
  const outcomeOf = (status: ImportOutcome['status'], state: ImportState, rows: number): ImportOutcome => ({
    status,
    accepted: state.accepted,
    rejected: state.rejected,
    rows,
    line: state.line,
    resumedAfter: earlier && !earlier.done ? earlier.line : null,
    rejectPath: options.rejectPath,
    statePath: options.statePath,
  });
  if (earlier?.done) return outcomeOf('already-done', earlier, 0);

  const records = await openRecords(options, earlier ? { offset: earlier.offset, line: earlier.line } : null);
  const rejectFile = openRejectFile(options.rejectPath, options.format, earlier ? earlier.rejectBytes : null);
  let state: ImportState = earlier ?? {
    version: 1,
    sha256,
    kind: options.mapping.kind,
    offset: 0,
    line: 0,
    accepted: 0,
    rejected: 0,
    rejectFile: options.rejectPath,
    rejectBytes: rejectFile.bytes,
    done: false,
    updatedAt: new Date().toISOString(),
  };
  writeState(options.statePath, state);

  const toMessage = rowMapper(options.mapping);
  const idPrefix = messageIdPrefix(sha256, options.mapping.kind);
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/batch`;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const inFlight: Batch[] = [];
  let rows = 0;
  let readBytes = state.offset;
  let savedAt = 0;
  const report = () =>
    options.onProgress?.({ bytes: readBytes, size, rows, accepted: state.accepted, rejected: state.rejected });

  const send = (batch: Batch) => {
    if (batch.messages.length > 0) {
      const body = `{"batch":[${batch.messages.join(',')}]}`;
      batch.sent = postBatch(body, {
        endpoint,
        writeKey: options.writeKey,
        gzip: options.gzip ?? false,
        maxAttempts: options.maxAttempts ?? 10,
        maxNetworkAttempts: options.maxAttempts ?? 10,
        ...(options.abort ? { signal: options.abort } : {}),
        ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      }).then((outcome) => outcome.refused);
      // Awaited in order later; marked handled now so a failure while earlier batches are awaited is not unhandled.
      batch.sent.catch(() => undefined);
    } else batch.sent = Promise.resolve([]);
    inFlight.push(batch);
  };

  /** The oldest batch in flight, once acknowledged: its rejects, then the state that says it is done. */
  const commitOldest = async () => {
    const batch = inFlight[0] as Batch;
    const refused = await (batch.sent as Promise<EventProblem[]>);
    inFlight.shift();
    const reasons = new Map<number, string[]>();
    for (const problem of refused)
      reasons.set(problem.index, [
        ...(reasons.get(problem.index) ?? []),
        problem.path ? `${problem.path}: ${problem.message}` : problem.message,
      ]);
    const rejects = [...batch.rejects];
    for (const [index, why] of reasons) {
      const row = batch.rows[index];
      if (row)
        rejects.push({
          line: row.line,
          raw: rawOf(options.file, row),
          reason: `refused by the API: ${why.join('; ')}`,
        });
    }
    rejects.sort((a, b) => a.line - b.line);
    rejectFile.write(rejects);
    const last = batch.last as SourceRecord;
    state = {
      ...state,
      offset: last.endOffset,
      line: last.endLine,
      accepted: state.accepted + batch.messages.length - reasons.size,
      rejected: state.rejected + rejects.length,
      rejectBytes: rejectFile.bytes,
      updatedAt: new Date().toISOString(),
    };
    // Saved at most every so often: a crash then resends a little more, which the messageIds make harmless.
    if (Date.now() - savedAt >= saveEveryMs) {
      writeState(options.statePath, state);
      savedAt = Date.now();
    }
    rows += batch.messages.length + batch.rejects.length;
    report();
  };

  try {
    let batch = emptyBatch();
    report();
    const dispatch = async () => {
      send(batch);
      batch = emptyBatch();
      while (inFlight.length >= concurrency) await commitOldest();
    };
    const reject = (record: SourceRecord, reason: string) =>
      batch.rejects.push({ line: record.line, raw: rawOf(options.file, record), reason });
    reading: for await (const chunk of records) {
      for (const record of chunk) {
        if (options.stop?.aborted || options.abort?.aborted) break reading;
        readBytes = record.endOffset;
        const result = record.columns
          ? toMessage(record.columns, record.values ?? [], `${idPrefix}${record.line}`)
          : { reason: record.problem ?? 'unreadable' };
        if ('reason' in result) reject(record, result.reason);
        else {
          const json = JSON.stringify(result.message);
          const bytes = Buffer.byteLength(json) + 1;
          if (bytes > maxEventBytes)
            reject(
              record,
              `the row makes an event of ${Math.ceil(bytes / 1024)} KB; the API takes at most ${maxEventBytes / 1024} KB`,
            );
          else {
            if (batch.messages.length > 0 && batch.bytes + bytes > maxBatchBytes) await dispatch();
            batch.messages.push(json);
            batch.rows.push(record);
            batch.bytes += bytes;
          }
        }
        batch.last = record;
        if (batch.messages.length >= options.batchRows || batch.rejects.length >= options.batchRows) await dispatch();
      }
    }
    const stopped = Boolean(options.stop?.aborted || options.abort?.aborted);
    if (!stopped && batch.last) send(batch);
    while (inFlight.length > 0) await commitOldest();
    writeState(options.statePath, state);
    if (stopped) return outcomeOf('stopped', state, rows);
    state = { ...state, done: true, updatedAt: new Date().toISOString() };
    writeState(options.statePath, state);
    return outcomeOf('done', state, rows);
  } catch (error) {
    // What was acknowledged is saved, so a rerun resumes right after it.
    writeState(options.statePath, state);
    if (options.abort?.aborted) return outcomeOf('stopped', state, rows);
    throw error;
  } finally {
    rejectFile.close();
  }
}
