/**
 * Runs Debian's Python (`/usr/bin/python3`, which sees python3-sklearn, -xgboost, -onnx) for the independent
 * checks and peers: scikit-learn metrics, the ONNX checker, the benchmark baselines. The `python3` first on PATH
 * may be another build without those packages, so the path is fixed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DEBIAN_PYTHON = process.env.LOCKSTEP_PYTHON ?? '/usr/bin/python3';

/** Why Python with these modules cannot run here, or undefined when it can. */
export function pythonUnavailable(modules: string[]): string | undefined {
  if (!existsSync(DEBIAN_PYTHON)) return `${DEBIAN_PYTHON} not found`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { encoding: 'utf8' });
  if (r.status !== 0) return `${DEBIAN_PYTHON} cannot import ${modules.join(', ')}: ${(r.stderr || '').trim().split('\n').at(-1)}`;
  return undefined;
}

/** Runs a Python script with arguments and stdin; resolves with stdout, rejects with stderr on failure. */
export function runPython(script: string, args: string[] = [], stdin = '', options: { stderr?: 'pipe' | 'inherit' } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, [script, ...args], { stdio: ['pipe', 'pipe', options.stderr ?? 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${DEBIAN_PYTHON} ${script} exited ${code}: ${err.trim().slice(-2000)}`))));
    child.stdin!.end(stdin);
  });
}
