// `pnpm bench NAME`: runs the benchmark test/bench/NAME.ts, which prints its own table.
import { readdirSync, readFileSync } from 'node:fs';

const folder = new URL('.', import.meta.url);
// A benchmark's first line names its command; the other modules here are what benchmarks share.
const available = readdirSync(folder)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.replace(/\.ts$/, ''))
  .filter((name) => readFileSync(new URL(`${name}.ts`, folder), 'utf8').startsWith(`// \`pnpm bench ${name}\``))
  .sort();
const name = process.argv[2];

if (!name || name === '--help' || !available.includes(name)) {
  process.stderr.write(`usage: pnpm bench NAME [options]\nbenchmarks: ${available.join(', ') || '(none yet)'}\n`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
process.argv.splice(2, 1);
await import(`./${name}.ts`);
