import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte()],
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**'],
    environment: 'node',
    testTimeout: 60_000,
    // onnxruntime-web initialises one wasm runtime per process; forks keep test files isolated.
    pool: 'forks',
  },
});
