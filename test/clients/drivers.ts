// The Python and Go SDK drivers: installed from PyPI into a venv and built with the Go module proxy on first use, then
// run as child processes that print what their SDK sent. Schemathesis, the API fuzzer, comes from PyPI the same way.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const pythonDir = new URL('python/', import.meta.url).pathname;
const goDir = new URL('go/', import.meta.url).pathname;
// Built things stay out of the source tree (linters and Prettier skip node_modules).
const buildDir = new URL('../../node_modules/.cache/cdp-sdk-drivers/', import.meta.url).pathname;
const venv = `${buildDir}venv`;
const venvPython = `${venv}/bin/python`;
const goBinary = `${buildDir}sdk-driver`;
const fuzzDir = new URL('../fuzz/', import.meta.url).pathname;
const schemathesisVenv = `${buildDir}schemathesis`;

export type DriverSdk = 'segment' | 'rudder';
export type DriverLanguage = 'python' | 'go';

export interface SentMessage {
  messageId: string;
  type: string;
  userId?: string;
  anonymousId?: string;
  timestamp?: string;
  originalTimestamp?: string;
}

export interface DriverReport {
  sdk: DriverSdk;
  sent: SentMessage[];
  failed: string[];
}

async function need(command: string, versionArgs: string[], hint: string): Promise<void> {
  try {
    await run(command, versionArgs, { timeout: 10_000 });
  } catch {
    throw new Error(`${command} is missing: ${hint} (see .ci/run)`);
  }
}

/** A venv holding the pinned packages of `requirements` (made anew when that file changes). */
async function pythonVenv(dir: string, requirements: string): Promise<void> {
  const wanted = readFileSync(requirements, 'utf8');
  const installed = `${dir}/installed.txt`;
  if (existsSync(installed) && readFileSync(installed, 'utf8') === wanted) return;
  await run('python3', ['-m', 'venv', '--clear', dir], { timeout: 60_000 });
  await run(
    `${dir}/bin/python`,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements],
    {
      timeout: 300_000,
    },
  );
  writeFileSync(installed, wanted);
}

/** Schemathesis, for the API fuzzing of test/integration/fuzz.test.ts and `pnpm fuzz`: in a venv of its own. */
export async function prepareSchemathesis(): Promise<string> {
  mkdirSync(buildDir, { recursive: true });
  await need('python3', ['--version'], 'apt-get install python3-venv');
  await pythonVenv(schemathesisVenv, `${fuzzDir}requirements.txt`);
  return `${schemathesisVenv}/bin/schemathesis`;
}

/** Everything from a registry the suites use, for CI to fetch before they run: the SDK drivers and Schemathesis. */
export async function prepareDrivers(): Promise<void> {
  await prepareSchemathesis();
  await prepareSdkDrivers();
}

/** A venv with the pinned SDKs of requirements.txt and the Go driver, built. */
export async function prepareSdkDrivers(): Promise<void> {
  mkdirSync(buildDir, { recursive: true });
  await need('python3', ['--version'], 'apt-get install python3-venv');
  await pythonVenv(venv, `${pythonDir}requirements.txt`);
  await need('go', ['version'], 'install Go 1.21 or later');
  // go.sum is committed: a module whose hash differs fails the build instead of being fetched anew.
  await run('go', ['build', '-mod=readonly', '-o', goBinary, '.'], { cwd: goDir, timeout: 300_000 });
}

/** Runs one SDK driver against `host`; resolves with what the SDK reported sent and failed. */
export async function runDriver(
  language: DriverLanguage,
  sdk: DriverSdk,
  options: { host: string; writeKey: string; run: string; people: number },
): Promise<DriverReport> {
  const [command, args] = language === 'python' ? [venvPython, [`${pythonDir}driver.py`, sdk]] : [goBinary, [sdk]];
  const { stdout } = await run(command, args, {
    timeout: 120_000,
    env: {
      PATH: process.env.PATH,
      CDP_HOST: options.host,
      CDP_WRITE_KEY: options.writeKey,
      CDP_RUN: options.run,
      CDP_PEOPLE: String(options.people),
    },
  });
  return JSON.parse(stdout) as DriverReport;
}
