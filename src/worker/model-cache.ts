// Model files from elsewhere (a URL or the Hugging Face hub) kept in the browser's Cache Storage, so a reload reads
// them from disk, offline too; "Forget downloaded models" deletes the cache. The embedded models never go here:
// the page's own server (and the browser's HTTP cache) already serve them.
import { fetchWithProgress } from './fetch-progress.ts';

export const MODEL_CACHE = 'diffusion-demo-models-v1';

/** The file at `url`: from the cache when there, else downloaded (reporting progress) and then cached. */
export async function cachedFile(
  url: string,
  onProgress?: (loaded: number, total: number) => void,
): Promise<Uint8Array> {
  const cache = await caches.open(MODEL_CACHE);
  const hit = await cache.match(url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    onProgress?.(bytes.length, bytes.length);
    return bytes;
  }
  const bytes = await fetchWithProgress(url, onProgress);
  // kept only once whole: a download cut short is never mistaken for the file
  await cache.put(
    url,
    new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
    }),
  );
  return bytes;
}

/** Which of `urls` the cache holds. */
export async function cachedUrls(urls: string[]): Promise<Set<string>> {
  const cache = await caches.open(MODEL_CACHE);
  const held = new Set<string>();
  for (const url of urls) if (await cache.match(url)) held.add(url);
  return held;
}

/** Deletes every downloaded model file; says how many files and bytes that freed. */
export async function forgetModels(): Promise<{ files: number; bytes: number }> {
  if (!(await caches.has(MODEL_CACHE))) return { files: 0, bytes: 0 };
  const cache = await caches.open(MODEL_CACHE);
  let bytes = 0;
  const keys = await cache.keys();
  for (const request of keys) {
    const response = await cache.match(request);
    bytes += Number(response?.headers.get('Content-Length') ?? 0);
  }
  await caches.delete(MODEL_CACHE);
  return { files: keys.length, bytes };
}
