// What an import keeps on disk between runs: the file's content hash, how far the API acknowledged it, and the reject file.
import { createHash } from 'node:crypto';
import {
  existsSync,
  ftruncateSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { importKinds } from './mapping';
import type { FileFormat } from './records';

/** The file's content, not its path or mtime: a copy, a re-download or a touch is the same import, an edited file is not. */
export async function contentHashOf(file: string): Promise<string> {
  const hash = createHash('sha256');
  // One buffer read into again and again: a stream would leave a gigabyte file's worth of chunks for the GC to find.
  const buffer = Buffer.alloc(1024 * 1024);
  const handle = await open(file, 'r');
  try {
    for (
      let read = (await handle.read(buffer, 0, buffer.length)).bytesRead;
      read > 0;
      read = (await handle.read(buffer, 0, buffer.length)).bytesRead
    ) {
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export const importState = z.object({
  version: z.literal(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  kind: z.enum(importKinds),
  /** Where reading resumes: the byte after the last acknowledged record, and the lines before it. */
  offset: z.number().int().nonnegative(),
  line: z.number().int().nonnegative(),
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  /** The reject file and its length when the state was saved: a rerun cuts what a crash added after. */
  rejectFile: z.string(),
  rejectBytes: z.number().int().nonnegative(),
  done: z.boolean(),
  updatedAt: z.string(),
});
export type ImportState = z.infer<typeof importState>;

export function defaultStatePath(file: string): string {
  return `${file}.import-state.json`;
}

export function defaultRejectPath(file: string, format: FileFormat): string {
  return `${file}.rejects.${format}`;
}

export function readState(statePath: string): { state: ImportState | null } | { problem: string } {
  if (!existsSync(statePath)) return { state: null };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (error) {
    return {
      problem: `the state file ${statePath} is not JSON (${(error as Error).message}); delete it or pass --restart`,
    };
  }
  const parsed = importState.safeParse(json);
  return parsed.success
    ? { state: parsed.data }
    : { problem: `the state file ${statePath} is not one cdp import wrote; delete it or pass --restart` };
}

/** Written whole to a temporary file and renamed over the old one, so a crash leaves the old state or the new, never half. */
export function writeState(statePath: string, state: ImportState): void {
  const temporary = `${statePath}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, statePath);
}

export interface RejectLine {
  line: number;
  raw: string;
  reason: string;
}

export interface RejectFile {
  write(rejects: RejectLine[]): void;
  /** Bytes written so far, saved with the state. */
  readonly bytes: number;
  close(): void;
}

/** RFC 4180 quoting of one field: every field quoted, quotes doubled. */
const csvField = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * The reject file: CSV `line,reason,row` or NDJSON `{ line, reason, row }`, the row as written in the file. Opened
 * at `keepBytes` (a resumed import's saved length, cutting anything a crash wrote after it), or new with its header.
 */
export function openRejectFile(path: string, format: FileFormat, keepBytes: number | null): RejectFile {
  const header = format === 'csv' ? 'line,reason,row\n' : '';
  const resume = keepBytes !== null && existsSync(path) && statSync(path).size >= keepBytes;
  const fd = openSync(path, resume ? 'r+' : 'w');
  let bytes = 0;
  if (resume) {
    ftruncateSync(fd, keepBytes);
    bytes = keepBytes;
  } else if (header) bytes += writeSync(fd, header, 0);
  return {
    write(rejects) {
      if (rejects.length === 0) return;
      const text = rejects
        .map(({ line, raw, reason }) =>
          format === 'csv'
            ? `${line},${csvField(reason)},${csvField(raw)}\n`
            : `${JSON.stringify({ line, reason, row: raw })}\n`,
        )
        .join('');
      bytes += writeSync(fd, text, bytes);
    },
    get bytes() {
      return bytes;
    },
    close() {
      closeSync(fd);
    },
  };
}

/** Whether a file exists and is a regular file, with its size. */
export function fileSizeOf(file: string): number | null {
  try {
    const stat = statSync(file);
    return stat.isFile() ? stat.size : null;
  } catch {
    return null;
  }
}
