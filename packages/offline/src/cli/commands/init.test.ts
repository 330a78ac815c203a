import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, run, useTempRoot } from '../test-support/cli-harness.ts';

const EXAMPLE = resolve(fileURLToPath(import.meta.url), '../../../../../../examples/sponsored-ads/lockstep.config.ts');
const root = useTempRoot('init');

/** The printed commands, one per entry: continuation lines joined, comments dropped. */
function commandsOf(stdout: string): string[] {
  return stdout
    .replace(/ \\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

describe('lockstep init', () => {
  it('writes the sponsored-ads repo, and the commands it prints train a model from it', async () => {
    const project = join(root(), 'project');
    const { stdout, stderr } = await run(process.execPath, [BIN, 'init', project], { cwd: root() });
    expect(stderr).toContain(`wrote ${join(project, 'lockstep.config.ts')}`);
    // The example, with its usage comment pointing at the new project's file.
    const example = await readFile(EXAMPLE, 'utf8');
    expect(await readFile(join(project, 'lockstep.config.ts'), 'utf8')).toBe(example.replaceAll('examples/sponsored-ads/lockstep.config.ts', 'lockstep.config.ts'));

    // The repo imports '@lockstep/offline/define', which a project that runs `npx lockstep` has installed: here, the
    // workspace's (test/built-packages.test.ts does the same with the built package). The project has no
    // package.json, so the repo is compiled as CommonJS, as in a project `npm init` made.
    await mkdir(join(project, 'node_modules/@lockstep'), { recursive: true });
    await symlink(resolve(BIN, '../..'), join(project, 'node_modules/@lockstep/offline'));
    // Follow the printed steps as a user would (all but the UI, a server), from the folder they start in.
    const steps = commandsOf(stdout);
    expect(steps[0]).toBe('cd project');
    expect(steps.at(-1)).toBe('npx lockstep ui');
    for (const step of steps.slice(1, -1)) {
      expect(step).toMatch(/^npx lockstep /);
      await run(process.execPath, [BIN, ...step.slice('npx lockstep '.length).split(/\s+/), '--no-progress'], { cwd: project });
    }
    const manifest = JSON.parse(await readFile(join(project, 'bundles/ads-ctr/manifest.json'), 'utf8')) as { name: string; model: { family: string }; metrics: { auc: number; bayes?: { auc: number } } };
    expect(manifest).toMatchObject({ name: 'ads-ctr', model: { family: 'fm' } });
    expect(manifest.metrics.auc).toBeGreaterThan(0.65);
  }, 120_000);

  it('a CommonJS repo importing the whole package fails to load a second copy of it, and says what to do', async () => {
    // As a user might write it in an `npm init` project: the helpers from the package root, not from /define.
    const project = join(root(), 'cjs');
    await run(process.execPath, [BIN, 'init', project]);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'commonjs' }));
    const repo = join(project, 'lockstep.config.ts');
    await writeFile(repo, (await readFile(repo, 'utf8')).replace("from '@lockstep/offline/define'", "from '@lockstep/offline'"));
    await mkdir(join(project, 'node_modules/@lockstep'), { recursive: true });
    await symlink(resolve(BIN, '../..'), join(project, 'node_modules/@lockstep/offline'));
    const err = (await run(process.execPath, [BIN, 'features', 'validate'], { cwd: project }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`(it is compiled as CommonJS: ${join(project, 'package.json')} does not say "type": "module"; import the define helpers from '@lockstep/offline/define'`);
    // Done as it says, the repo loads.
    await writeFile(repo, (await readFile(repo, 'utf8')).replace("from '@lockstep/offline'", "from '@lockstep/offline/define'"));
    const { stdout } = await run(process.execPath, [BIN, 'features', 'validate'], { cwd: project });
    expect(stdout).toContain('sponsored_ads');
  });

  it('never overwrites a repo without --force, and leaves it as it was', async () => {
    const project = join(root(), 'mine');
    await run(process.execPath, [BIN, 'init', project]);
    await writeFile(join(project, 'lockstep.config.ts'), '// my repo\n');
    const err = (await run(process.execPath, [BIN, 'init', project]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toBe(`lockstep: INVALID_INPUT: ${join(project, 'lockstep.config.ts')} already exists (--force replaces it)\n`);
    expect(await readFile(join(project, 'lockstep.config.ts'), 'utf8')).toBe('// my repo\n');
    await run(process.execPath, [BIN, 'init', project, '--force']);
    expect(await readFile(join(project, 'lockstep.config.ts'), 'utf8')).toContain('defineRepo');
  });
});
