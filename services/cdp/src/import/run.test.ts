// An import against a stand-in API that stops answering: it stops with the reason, keeps its progress, and a rerun finishes the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSendError } from '../send/post-batch';
import { resolveMapping, type Mapping } from './mapping';
import { runImport, type ImportOptions } from './run';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-import-run-'));
let server: Server | null = null;
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('runImport', () => {
  it('stops after the retry limit when the API stays busy, and a rerun resumes after the last acknowledged request', async () => {
    const stored = new Map<string, number>();
    let healthy = 3;
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (healthy <= 0) {
          response
            .writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' })
            .end('{"code":"OVERLOADED","message":"busy"}');
          return;
        }
        healthy -= 1;
        for (const message of (JSON.parse(Buffer.concat(chunks).toString()) as { batch: Array<{ messageId: string }> })
          .batch) {
          stored.set(message.messageId, (stored.get(message.messageId) ?? 0) + 1);
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const file = path.join(dir, 'customers.csv');
    writeFileSync(
      file,
      ['userId,name', ...Array.from({ length: 100 }, (_, index) => `u${index},Khách ${index}`)].join('\n'),
    );
    const options: ImportOptions = {
      file,
      format: 'csv',
      mapping: (resolveMapping(undefined, {}) as { mapping: Mapping }).mapping,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      writeKey: 'wk',
      rejectPath: `${file}.rejects.csv`,
      statePath: `${file}.import-state.json`,
      batchRows: 10,
      concurrency: 1,
      maxAttempts: 2,
    };

    const failure = await runImport(options).catch((error: unknown) => error);
    expect(isSendError(failure) && failure.code).toBe('GAVE_UP');
    const state = JSON.parse(readFileSync(options.statePath, 'utf8')) as {
      line: number;
      accepted: number;
      done: boolean;
    };
    expect(state).toMatchObject({ line: 31, accepted: 30, done: false });

    healthy = Number.POSITIVE_INFINITY;
    const outcome = await runImport(options);
    expect(outcome).toMatchObject({ status: 'done', accepted: 100, rejected: 0, rows: 70, resumedAfter: 31 });
    expect(stored.size).toBe(100);
    expect([...stored.values()].every((copies) => copies === 1)).toBe(true);
  });
});
