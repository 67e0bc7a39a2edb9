// Fuzzing from the contract: Schemathesis generates requests for every operation of /openapi.json, with the write,
// read or admin key each needs, and every answer must be no 5xx, documented (status, content type, headers, body)
// and on time. A bounded, reproducible run; `pnpm fuzz` runs the long one.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSchemathesis } from '../clients/drivers';
import { excludedOperations, fuzz } from '../harness/fuzz';
import { startTestPlatform, type TestPlatform } from '../harness/platform';

// The embedded runtime only: the answers checked here come from the HTTP routes, which are the same on Kafka.
describe('fuzzing the API from /openapi.json', () => {
  let cdp: TestPlatform;
  // Error lines the platform logs while fuzzed: input a route accepts must not break the work behind it either
  // (a saved segment every evaluation pass then fails on).
  const errors: string[] = [];
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() && (JSON.parse(line) as { level: number }).level >= 50) errors.push(line.slice(0, 600));
      }
      done();
    },
  });

  beforeAll(async () => {
    await prepareSchemathesis();
    cdp = await startTestPlatform('embedded', {}, undefined, logs);
  }, 300_000);

  afterAll(async () => {
    await cdp?.close();
  });

  it('answers every generated request as the document says, without a 5xx or a hang', async () => {
    const result = await fuzz(cdp, {
      // Few cases per operation and no coverage phase keep the run well under a minute; deterministic generation
      // sends the same requests every run (the seed is for runs that are not).
      maxExamples: 10,
      phases: ['examples', 'fuzzing', 'stateful'],
      seed: 20261204,
      deterministic: true,
      requestTimeout: 10,
      print: false,
    });
    const document = (await (await fetch(`${cdp.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );

    expect(result.errors, result.output.slice(-4000)).toEqual([]);
    expect(result.failures.join('\n')).toBe('');
    // Every operation the run may reach was sent requests: a run that tested nothing cannot pass. The document
    // itself is where Schemathesis reads the contract from, and it sends that operation no generated case.
    const untested = documented.filter(
      (name) => name !== 'GET /openapi.json' && !excludedOperations.includes(name) && !result.operations.includes(name),
    );
    expect(untested).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(errors).toEqual([]);
  }, 240_000);
});
