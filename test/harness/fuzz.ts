// Fuzzes a running platform from its own contract: Schemathesis reads /openapi.json, sends every operation generated
// input with the key each one needs, and checks every answer against the document.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readScopes, type Scope } from '@cdp/runtime';
import { prepareSchemathesis } from '../clients/drivers';

export interface FuzzTarget {
  url: string;
  writeKey: string;
  readKey: string;
  adminKey: string;
}

export interface FuzzOptions {
  /** Generated cases per operation and phase. */
  maxExamples: number;
  /** Schemathesis's phases: examples, coverage, fuzzing, stateful. */
  phases: string[];
  /** The same seed generates the same requests (with `deterministic`, no randomness at all). */
  seed: number;
  deterministic: boolean;
  /** Seconds one request may take before it counts as hung. */
  requestTimeout: number;
  /** Print Schemathesis's own report as it runs instead of keeping it for the result. */
  print: boolean;
}

export interface FuzzResult {
  /** One line per failure: the operation, the check that failed, and the answer that failed it. */
  failures: string[];
  /** Problems that stopped a case from being checked at all (a request that hung, an unreachable server). */
  errors: string[];
  /** The operations that were sent requests, as `METHOD /path`. */
  operations: string[];
  /** Schemathesis's report as printed (empty when printed live). */
  output: string;
  exitCode: number;
}

/**
 * Operations left out of every run, and why. Revoking a key: the listing of GET /v1/keys hands Schemathesis the
 * prefixes of the very keys the run authenticates with, and once the admin key is revoked every later admin
 * operation answers 401 and tests nothing.
 */
export const excludedOperations = ['DELETE /v1/keys/{prefix}'];

/** What every answer is checked for: not a 5xx, a documented status, content type, headers and body schema. */
export const checks = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
];

interface DocumentOperation {
  description?: string;
  security?: Array<Record<string, unknown>>;
}

/** The scope a Bearer operation needs, as `documented(...)` states it in the operation's description. */
function scopeOf(operation: DocumentOperation): Scope | null {
  return (/Needs a key with the `([^`]+)` scope/.exec(operation.description ?? '')?.[1] as Scope | undefined) ?? null;
}

const toml = (value: string): string => JSON.stringify(value);

/** schemathesis.toml: the write key for Basic operations, and per Bearer operation the narrowest seeded key that serves. */
export function schemathesisConfig(
  document: { paths: Record<string, Record<string, DocumentOperation>> },
  target: FuzzTarget,
): string {
  const lines = ['[auth.openapi.writeKey]', `username = ${toml(target.writeKey)}`, 'password = ""', ''];
  for (const [route, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!operation.security?.some((requirement) => 'apiKey' in requirement)) continue;
      const scope = scopeOf(operation);
      const key = scope && (readScopes as readonly Scope[]).includes(scope) ? target.readKey : target.adminKey;
      lines.push(
        '[[operations]]',
        `include-name = ${toml(`${method.toUpperCase()} ${route}`)}`,
        `headers = { Authorization = ${toml(`Bearer ${key}`)} }`,
        '',
      );
    }
  }
  return lines.join('\n');
}

interface Check {
  name: string;
  status: string;
  failure_info?: { failure?: { code?: string; title?: string; message?: string; operation?: string } };
}

interface Scenario {
  recorder?: {
    label: string;
    checks?: Record<string, Check[]>;
    interactions?: Record<
      string,
      { request: { method: string; uri: string }; response?: { status_code: number; content?: { $base64?: string } } }
    >;
  };
}

const oneLine = (text: string, length: number): string => text.replace(/\s+/g, ' ').trim().slice(0, length);

/** Failures and errors as the NDJSON event stream reports them, one line each with the request that met them. */
export function readReport(ndjson: string): Pick<FuzzResult, 'failures' | 'errors' | 'operations'> {
  const failures = new Map<string, string>();
  const operations = new Set<string>();
  const errors: string[] = [];
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    const [kind, body] = Object.entries(event)[0] ?? [];
    if (kind === undefined) continue;
    if (kind.endsWith('Error')) {
      errors.push(`${kind}: ${oneLine(JSON.stringify(body), 600)}`);
      continue;
    }
    if (kind !== 'ScenarioFinished') continue;
    const { recorder } = body as Scenario;
    if (recorder && Object.keys(recorder.interactions ?? {}).length > 0) operations.add(recorder.label);
    for (const [caseId, caseChecks] of Object.entries(recorder?.checks ?? {})) {
      for (const check of caseChecks) {
        if (check.status !== 'failure') continue;
        const failure = check.failure_info?.failure ?? {};
        const interaction = recorder?.interactions?.[caseId];
        const answer = interaction?.response?.content?.$base64;
        const what = `${failure.operation ?? recorder?.label}: ${failure.code ?? check.name} ${failure.title ?? ''} (${oneLine(failure.message ?? '', 200)})`;
        if (failures.has(what)) continue;
        failures.set(
          what,
          `${what}\n    ${interaction ? `${interaction.request.method} ${oneLine(interaction.request.uri, 300)}` : ''}` +
            (answer ? `\n    answered ${oneLine(Buffer.from(answer, 'base64').toString('utf8'), 300)}` : ''),
        );
      }
    }
  }
  return { failures: [...failures.values()].sort(), errors, operations: [...operations].sort() };
}

/** Runs Schemathesis against `target` and collects what it found. */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzResult> {
  const schemathesis = await prepareSchemathesis();
  const response = await fetch(`${target.url}/openapi.json`);
  const document = (await response.json()) as Parameters<typeof schemathesisConfig>[0];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-fuzz-'));
  try {
    const config = path.join(dir, 'schemathesis.toml');
    writeFileSync(config, schemathesisConfig(document, target));
    const args = [
      '--config-file',
      config,
      '--no-color',
      'run',
      `${target.url}/openapi.json`,
      '--checks',
      checks.join(','),
      '--phases',
      options.phases.join(','),
      '--max-examples',
      String(options.maxExamples),
      '--request-timeout',
      String(options.requestTimeout),
      '--report',
      'ndjson',
      '--report-ndjson-path',
      path.join(dir, 'events.ndjson'),
      '--seed',
      String(options.seed),
      // Examples found earlier are not replayed: the same seed sends the same requests whatever ran before.
      ...(options.deterministic ? ['--generation-deterministic'] : ['--generation-database', 'none']),
      ...excludedOperations.flatMap((name) => ['--exclude-name', name]),
    ];
    let output = '';
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(schemathesis, args, {
        cwd: dir,
        stdio: options.print ? 'inherit' : ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, HOME: dir, COLUMNS: '120' },
      });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
    const report = readdirSync(dir).includes('events.ndjson')
      ? readReport(readFileSync(path.join(dir, 'events.ndjson'), 'utf8'))
      : { failures: [], errors: [`no report: ${output.slice(-2000)}`], operations: [] };
    return { ...report, output, exitCode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
