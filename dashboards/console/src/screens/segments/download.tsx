// The audience as a file: the members streamed as CSV or NDJSON with the key in a header (never in a URL), counted as they arrive, saved from a Blob.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, useApi } from '../../api';
import { ErrorBox } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import type { Segment } from './names';

type Format = 'csv' | 'ndjson';
const types: Record<Format, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

interface Progress {
  format: Format;
  lines: number;
  bytes: number;
  done: boolean;
  cancelled?: boolean;
}

const newline = 10;

function countLines(chunk: Uint8Array): number {
  let lines = 0;
  for (const byte of chunk) if (byte === newline) lines += 1;
  return lines;
}

/** Saves bytes under a file name through a temporary link, as a browser saves any download. */
function save(parts: BlobPart[], type: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function Downloads({ segment }: { segment: Segment }) {
  const { t, locale } = useI18n();
  const format = useFormats();
  const api = useApi();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const controller = useRef<AbortController | null>(null);
  useEffect(() => () => controller.current?.abort(), []);
  const size = (bytes: number) =>
    new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: bytes < 1_000_000 ? 'kilobyte' : 'megabyte',
      maximumFractionDigits: 1,
    }).format(bytes < 1_000_000 ? bytes / 1000 : bytes / 1_000_000);

  async function download(kind: Format) {
    controller.current?.abort();
    const current = new AbortController();
    controller.current = current;
    setError(null);
    setProgress({ format: kind, lines: 0, bytes: 0, done: false });
    try {
      const response = await api.request('GET', `/v1/segments/${encodeURIComponent(segment.id)}/members`, {
        accept: types[kind],
        signal: current.signal,
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const parts: BlobPart[] = [];
      let lines = 0;
      let bytes = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value as Uint8Array<ArrayBuffer>);
        lines += countLines(value);
        bytes += value.byteLength;
        setProgress({ format: kind, lines, bytes, done: false });
      }
      save(parts, types[kind], `${segment.id}.${kind}`);
      setProgress({ format: kind, lines, bytes, done: true });
    } catch (failure) {
      if ((failure as Error).name === 'AbortError') {
        setProgress((previous) => previous && { ...previous, cancelled: true });
        return;
      }
      setProgress(null);
      setError(failure instanceof ApiError ? failure : new ApiError(0, 'NETWORK', String(failure)));
    } finally {
      if (controller.current === current) controller.current = null;
    }
  }

  const total = progress ? segment.size + (progress.format === 'csv' ? 1 : 0) : 0;
  const running = progress !== null && !progress.done && !progress.cancelled;
  return (
    <section class="panel downloads" aria-labelledby="downloads-title">
      <h2 id="downloads-title">{t('segments.download.title')}</h2>
      <p class="muted">{t('segments.download.hint')}</p>
      <div class="actions">
        <button type="button" onClick={() => download('csv')} disabled={running} data-testid="download-csv">
          {t('segments.download.csv')}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => download('ndjson')}
          disabled={running}
          data-testid="download-ndjson"
        >
          {t('segments.download.ndjson')}
        </button>
        {running && (
          <button type="button" class="secondary" onClick={() => controller.current?.abort()}>
            {t('segments.download.cancel')}
          </button>
        )}
      </div>
      {progress && (
        <div class="download-progress">
          <progress
            max={Math.max(total, progress.lines, 1)}
            value={progress.lines}
            aria-label={t('segments.download.label')}
          />
          <p role="status" data-testid="download-status" data-done={progress.done ? 'true' : 'false'}>
            {progress.cancelled
              ? t('segments.download.cancelled')
              : progress.done
                ? t('segments.download.done', { lines: format.number(progress.lines), size: size(progress.bytes) })
                : t('segments.download.progress', {
                    lines: format.number(progress.lines),
                    total: format.number(total),
                    size: size(progress.bytes),
                  })}
          </p>
        </div>
      )}
      {error && <ErrorBox error={error} />}
    </section>
  );
}
