import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { modelsPlugin } from './scripts/vite-models-plugin.ts';

// Cross-origin isolation lets onnxruntime-web use WebAssembly threads (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [svelte(), modelsPlugin()],
  // One onnxruntime-web for the app and for @huggingface/transformers (two copies = two wasm runtimes).
  resolve: { dedupe: ['onnxruntime-web'] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: { target: 'es2022' },
});
