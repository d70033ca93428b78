import { defineConfig } from 'vitest/config';

// End-to-end tests: the built page (vite preview) in Debian's Chromium, one file at a time.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
