// Runs each measured part in a process of its own (chDB takes one data directory per process; memory is measured clean).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const resultField = 'benchResult';

/** Child side: the one stdout line the parent reads (the services' own log lines share stdout). */
export function report(value: unknown): void {
  process.stdout.write(`${JSON.stringify({ [resultField]: value })}\n`);
}

export interface Part<T> {
  child: ChildProcess;
  /** The next result line the child reports; rejects when the child exits first. */
  next(): Promise<T>;
  /** Closes the child's stdin (its signal to stop) and waits for it to exit. */
  stop(): Promise<number | string>;
}

function nodeArgs(extra: string[]): string[] {
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', 'bench-profiles'] : [];
  return [...extra, '--import', 'tsx', ...profile];
}

export function spawnPart<T>(
  script: URL,
  args: string[],
  options: { env?: Record<string, string>; node?: string[] } = {},
): Part<T> {
  const child = spawn(process.execPath, [...nodeArgs(options.node ?? []), script.pathname, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  // A child that died already has closed its stdin; ending it then must not throw in this process.
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const results: T[] = [];
  const waiters: Array<{ resolve: (value: T) => void; reject: (error: Error) => void }> = [];
  let ended: string | null = null;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not a JSON line
    }
    if (parsed && resultField in parsed) {
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(parsed[resultField] as T);
      else results.push(parsed[resultField] as T);
      return;
    }
    // Warnings and errors of the services under measure stay visible, beside the table.
    process.stderr.write(`${line}\n`);
  });
  void exited.then((code) => {
    ended = `${script.pathname.split('/').pop()} ${args.join(' ')} exited (${code}) before reporting`;
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(ended));
  });
  return {
    child,
    next() {
      const ready = results.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      if (ended) return Promise.reject(new Error(ended));
      return new Promise<T>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async stop() {
      child.stdin!.end();
      return exited;
    },
  };
}

/** Spawns a part that reports once and exits. */
export async function runPart<T>(
  script: URL,
  args: string[],
  options: { env?: Record<string, string>; node?: string[] } = {},
): Promise<T> {
  const part = spawnPart<T>(script, args, options);
  try {
    return await part.next();
  } finally {
    await part.stop();
  }
}
