// `pnpm bench NAME`: runs the benchmark test/bench/NAME.ts, which prints its own table.
import { readdirSync } from 'node:fs';

const available = readdirSync(new URL('.', import.meta.url))
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();
const name = process.argv[2];

if (!name || name === '--help' || !available.includes(name)) {
  process.stderr.write(`usage: pnpm bench NAME [options]\nbenchmarks: ${available.join(', ') || '(none yet)'}\n`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
process.argv.splice(2, 1);
await import(`./${name}.ts`);
