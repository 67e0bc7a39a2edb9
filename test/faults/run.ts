// `pnpm test:faults [FAULT …]`: every fault (or the named ones) under load, then the table for the README.
import { faults, runFault, table, type FaultName, type FaultResult } from './runner';

const wanted = process.argv.slice(2);
const names = (Object.keys(faults) as FaultName[]).filter(
  (name) => wanted.length === 0 || wanted.some((word) => name.includes(word)),
);
const results: FaultResult[] = [];
for (const fault of names) {
  process.stderr.write(`${fault}\n`);
  const startedAt = Date.now();
  results.push(await runFault(fault, { log: (line) => process.stderr.write(`${line}\n`) }));
  process.stderr.write(`  done in ${Math.round((Date.now() - startedAt) / 1000)} s\n`);
}
process.stdout.write(
  `${table(results)}\n\nMeasured ${new Date().toISOString().slice(0, 10)} with \`pnpm test:faults\`.\n`,
);
const broken = results.filter(
  (r) =>
    r.lost > 0 ||
    r.countedTwice > 0 ||
    r.serverErrors > 0 ||
    r.clientErrors > 0 ||
    r.recoverMs === null ||
    r.restarts > 0 ||
    r.profilesWrong > 0 ||
    r.analyticsDifferences.length > 0 ||
    (r.timestamps?.otherwise ?? 0) > 0,
);
process.exitCode = broken.length > 0 ? 1 : 0;
