// The command line as a program another program reads: its whole output arrives through a pipe.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixture.ts';

/**
 * Runs `npm run -s generate -- ARGS | (sleep; cat)` in bash: a real pipe (Node's own child pipes are sockets,
 * which Node writes synchronously) to a reader that starts late, as jq or another program may.
 */
function generateThroughPipe(args: string[], pauseSeconds: number): Promise<{ code: number | null; stdout: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const command = `set -o pipefail; npm run -s generate -- ${quoted} 2>/dev/null | (sleep ${pauseSeconds}; cat)`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(chunks).toString('utf8') }));
  });
}

describe('npm run generate', () => {
  it('hands a --json trace larger than a pipe buffer over whole', async () => {
    const args = ['--pair', 'fixture', '--prompt', 'Once upon a time', '--gen-length', '100', '--json'];
    const { code, stdout } = await generateThroughPipe(args, 1);
    expect(code).toBe(0);
    expect(stdout.length).toBeGreaterThan(65536); // more than the 64 KiB a pipe holds
    const trace = JSON.parse(stdout); // cut short, this throws
    expect(trace.diffusion.steps.length).toBeGreaterThan(0);
    expect(trace.ar.answer.length).toBeGreaterThan(0);
  }, 60_000);

  it('keeps its exit code: bad arguments exit 2 through the pipe', async () => {
    const { code, stdout } = await generateThroughPipe(['--prompt', 'x', '--temperature', 'warm'], 0);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  }, 60_000);
});

describe('npm run generate --mode block', () => {
  it('runs the block-diffusion model alone and prints its whole trace', async () => {
    const args = ['--pair', 'fixture', '--prompt', 'Once upon a time', '--mode', 'block', '--json'];
    const { code, stdout } = await generateThroughPipe(args, 0);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.diffusion).toBeUndefined();
    expect(out.ar).toBeUndefined();
    expect(out.block.kind).toBe('diffusion');
    expect(out.block.model).toBe('fixture/block');
    expect(out.block.steps.length).toBeGreaterThan(0);
    expect(out.block.options.blockLength).toBe(4);
  }, 60_000);

  it('refuses a block length the model was not trained on (exit 1)', async () => {
    const args = ['--pair', 'fixture', '--prompt', 'Once', '--mode', 'block', '--block-length', '8', '--json'];
    const { code, stdout } = await generateThroughPipe(args, 0);
    expect(code).toBe(1);
    expect(stdout).toBe('');
  }, 60_000);
});
