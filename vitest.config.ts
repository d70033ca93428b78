import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte()],
  test: {
    include: ['test/**/*.test.ts'],
    // hf.test.ts and reference.test.ts need the converted random checkpoints (scripts/make-hf-random.sh); scripts/test.sh runs it
    exclude: [
      'test/e2e/**',
      ...(process.env.HF_RANDOM_DIR ? [] : ['test/models/hf.test.ts', 'test/models/reference.test.ts']),
    ],
    environment: 'node',
    testTimeout: 60_000,
    // onnxruntime-web initialises one wasm runtime per process; forks keep test files isolated.
    pool: 'forks',
  },
});
