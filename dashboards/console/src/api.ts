// The console's only way to the platform: the public /v1 API with the signed-in read key as Bearer, and the API's errors as values.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';

/** One problem the API named, e.g. a rule condition at `rule.and.1.gte`. */
export interface ApiProblem {
  path?: string;
  index?: number;
  message: string;
}

/** What the API answered instead of a result; `code` NETWORK when it did not answer at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: ApiProblem[] = [],
    /** MISSING_SCOPE: the scope the signed-in key lacks. */
    readonly scope?: string,
  ) {
    super(message);
  }
}

export type Params = Record<string, string | number | undefined | null>;

export function withParams(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

export interface Api {
  request: (
    method: string,
    path: string,
    options?: { params?: Params; body?: unknown; accept?: string; signal?: AbortSignal },
  ) => Promise<Response>;
  get: <T>(path: string, params?: Params, signal?: AbortSignal) => Promise<T>;
  send: <T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<T>;
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as {
    code?: string;
    message?: string;
    errors?: Array<ApiProblem & { scope?: string }>;
  };
  const code = body.code ?? `HTTP_${response.status}`;
  const message = body.message ?? response.statusText;
  // A key without the scope a route needs: the scope is the whole story, there are no problems to list.
  if (code === 'MISSING_SCOPE') return new ApiError(response.status, code, message, [], body.errors?.[0]?.scope ?? '');
  return new ApiError(response.status, code, message, body.errors ?? []);
}

/** A 429 (too many requests of this key in flight: nothing was done) is asked again this often, after its Retry-After. */
const retriesWhenLimited = 4;
const longestRetryWaitMs = 5000;

/** Waits `ms`, or rejects with an AbortError when the request it waits for is cancelled. */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    if (signal?.aborted) aborted();
    else signal?.addEventListener('abort', aborted, { once: true });
  });
}

/** An API client for one read key; `onUnauthorized` runs when the key stops being accepted. */
export function createApi(key: string, onUnauthorized: () => void, base = ''): Api {
  const request: Api['request'] = async (method, path, options = {}) => {
    let response: Response;
    for (let attempt = 0; ; attempt += 1) {
      try {
        response = await fetch(base + withParams(path, options.params), {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            accept: options.accept ?? 'application/json',
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: options.body !== undefined ? JSON.stringify(options.body) : null,
          signal: options.signal ?? null,
        });
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        throw new ApiError(0, 'NETWORK', (error as Error).message);
      }
      // A screen asks several things at once, and several people may share a key: a refusal for too many at once is
      // waited out, as the API asks, rather than shown.
      if (response.status !== 429 || attempt >= retriesWhenLimited) break;
      const seconds = Number(response.headers.get('retry-after'));
      await wait(
        Math.min(longestRetryWaitMs, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000),
        options.signal,
      );
    }
    if (response.status === 401) onUnauthorized();
    if (!response.ok) throw await errorOf(response);
    return response;
  };
  return {
    request,
    get: async (path, params, signal) =>
      (await (await request('GET', path, { params, ...(signal ? { signal } : {}) })).json()) as never,
    send: async (method, path, body) => {
      const response = await request(method, path, { body });
      return (response.status === 204 ? undefined : await response.json()) as never;
    },
  };
}

/** Checks a read key before it is kept: resolves true when the API accepts it. */
export async function checkKey(key: string, base = ''): Promise<boolean> {
  const response = await fetch(`${base}/v1/segments`, { headers: { authorization: `Bearer ${key}` } });
  if (response.status === 401) return false;
  // A known key without the analytics scope may still read what its scopes allow; each screen says what it lacks.
  if (!response.ok && response.status !== 403) throw await errorOf(response);
  return true;
}

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside ApiContext');
  return api;
}

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** GET a path whenever it or its parameters change; a newer request cancels the older one. `null` path: nothing to ask yet. */
export function useQuery<T>(path: string | null, params: Params = {}): QueryState<T> {
  const api = useApi();
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: path !== null });
  const [attempt, setAttempt] = useState(0);
  const key = path === null ? null : withParams(path, params);
  const current = useRef(0);
  useEffect(() => {
    if (path === null) return undefined;
    const controller = new AbortController();
    const id = ++current.current;
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    api.get<T>(path, params, controller.signal).then(
      (data) => id === current.current && setState({ data, loading: false }),
      (error: unknown) => {
        if ((error as Error).name === 'AbortError' || id !== current.current) return;
        setState({
          error: error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)),
          loading: false,
        });
      },
    );
    return () => controller.abort();
    // The serialised key stands for path and params.
  }, [key, attempt, api]);
  const reload = useCallback(() => setAttempt((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface DelayedPostState<T> {
  /** The last answer, kept while a newer one is on its way and after a newer one failed. */
  result?: T;
  error?: ApiError;
  pending: boolean;
}

/** How long a live preview waits after the last edit before it asks. */
export const previewDelayMs = 400;

/**
 * POSTs `body` (its JSON text, so an equal body is not sent again) to `path` once it has stopped changing for
 * `previewDelayMs`; a newer body cancels the older request and older answers are ignored. `null` sends nothing.
 */
export function useDelayedPost<T>(path: string, bodyText: string | null): DelayedPostState<T> {
  const api = useApi();
  const [state, setState] = useState<DelayedPostState<T>>({ pending: bodyText !== null });
  const latest = useRef(0);
  useEffect(() => {
    const id = ++latest.current;
    if (bodyText === null) {
      setState({ pending: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((previous) => ({ ...previous, pending: true }));
    const timer = setTimeout(() => {
      api
        .request('POST', path, { body: JSON.parse(bodyText) as unknown, signal: controller.signal })
        .then((response) => response.json() as Promise<T>)
        .then(
          (result) => id === latest.current && setState({ result, pending: false }),
          (error: unknown) => {
            if ((error as Error).name === 'AbortError' || id !== latest.current) return;
            setState((previous) => ({
              ...(previous.result === undefined ? {} : { result: previous.result }),
              error: error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)),
              pending: false,
            }));
          },
        );
    }, previewDelayMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, path, bodyText]);
  return state;
}
