// Runs `cdp` as a child process, the way a user does, and reads the URL it prints.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cdpBin = fileURLToPath(new URL('../../services/cdp/bin/cdp.cjs', import.meta.url));

export interface CdpProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

export async function spawnCdp(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  nodeArgs: string[] = [],
): Promise<CdpProcess> {
  const child = spawn(process.execPath, [...nodeArgs, cdpBin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cdp did not start within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = () => {
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cdp exited (${code}) before it started:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

/** Starts a `cdp` command that ends on its own (`cdp import …`), to stop or kill it part way. */
export function spawnImport(args: string[], env: Record<string, string> = {}): Omit<CdpProcess, 'url'> {
  const child = spawn(process.execPath, [cdpBin, 'import', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, output: () => output, exited };
}

/** Runs a `cdp` command that ends (`cdp keys …`) and gives its exit code and what it printed. */
export function runCdp(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cdpBin, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * `cdp start` processes of one suite, all on one data directory (so a restart finds what the last one wrote);
 * `afterAll` kills whatever is still running and removes the directory.
 */
export function cdpProcesses(
  dataDir: string,
  env: Record<string, string>,
): { start(): Promise<CdpProcess>; cleanUp(): void } {
  const running: CdpProcess[] = [];
  return {
    async start() {
      const cdp = await spawnCdp(['start'], env);
      running.push(cdp);
      return cdp;
    },
    cleanUp() {
      for (const cdp of running) cdp.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
