/**
 * `npm run bench -- <name> [--flag value ...]`: runs `bench/<name>.ts`.
 * Each benchmark prints progress to stderr and, as its last stdout line, one JSON object with its figures.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
if (!name || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: npm run bench -- <name> [options]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { main: (argv: string[]) => Promise<Record<string, unknown>> };
const result = await mod.main(rest);
process.stdout.write(`${JSON.stringify(result)}\n`);
