// `pnpm fuzz`: the long fuzzing run. Starts the whole platform (embedded runtime) and lets Schemathesis send every
// operation of /openapi.json many generated requests in every phase, printing its report; exits 1 on any failure.
// CDP_FUZZ_EXAMPLES (cases per operation and phase, default 100) and CDP_FUZZ_SEED (default 1) tune it.
import { fuzz } from '../harness/fuzz';
import { startTestPlatform } from '../harness/platform';

const maxExamples = Number(process.env.CDP_FUZZ_EXAMPLES ?? 100);
const seed = Number(process.env.CDP_FUZZ_SEED ?? 1);
const cdp = await startTestPlatform('embedded');
try {
  process.stdout.write(`fuzzing ${cdp.url}/openapi.json: ${maxExamples} cases per operation and phase, seed ${seed}\n`);
  const result = await fuzz(cdp, {
    maxExamples,
    phases: ['examples', 'coverage', 'fuzzing', 'stateful'],
    seed,
    deterministic: false,
    requestTimeout: 10,
    print: true,
  });
  process.exitCode = result.exitCode;
} finally {
  await cdp.close();
}
