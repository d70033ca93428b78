// Model files from elsewhere (a URL or the Hugging Face hub) kept in the browser's Cache Storage, so a reload reads
// them from disk, offline too; "Forget downloaded models" deletes the cache. The embedded models never go here:
// the page's own server (and the browser's HTTP cache) already serve them. A file enters the cache only whole and
// as the manifest describes it (its size, and its SHA-256 where the manifest has one): a download cut short, or
// bytes other than the manifest's, are refused and nothing of them is kept, so the next try starts clean.
import { fetchWithProgress } from './fetch-progress.ts';

export const MODEL_CACHE = 'diffusion-demo-models-v1';

/** What the manifest says a file is. */
export interface Expected {
  size?: number;
  sha256?: string;
}

/** The browser APIs the cache uses (tests pass stand-ins). */
export interface CacheDeps {
  caches: CacheStorage;
  fetch: typeof fetch;
  digest: (bytes: Uint8Array) => Promise<string>;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

const browser = (): CacheDeps => ({ caches: globalThis.caches, fetch: globalThis.fetch, digest: sha256Hex });

const name = (url: string) => url.split('/').slice(-2).join('/');

/** Why `bytes` are not the file the manifest describes, or null. */
async function mismatch(url: string, bytes: Uint8Array, expected: Expected, deps: CacheDeps): Promise<string | null> {
  if (expected.size !== undefined && bytes.length !== expected.size) {
    return (
      `${name(url)}: ${bytes.length.toLocaleString('en')} bytes arrived, the manifest says ` +
      `${expected.size.toLocaleString('en')}: the download was cut short or the file is not the one listed`
    );
  }
  if (expected.sha256 !== undefined && (await deps.digest(bytes)) !== expected.sha256) {
    return `${name(url)}: its SHA-256 is not the manifest's: the file is not the one listed`;
  }
  return null;
}

/**
 * The file at `url`: from the cache when there, else downloaded (reporting progress), checked and then cached. A
 * file the browser cannot keep (no room left; a private window's small store; Chromium's "Unexpected internal
 * error" for a file of hundreds of MB) is still returned, whole and checked, for this visit: `onNotKept` says why,
 * and no part of it stays in the cache.
 */
export async function cachedFile(
  url: string,
  onProgress?: (loaded: number, total: number) => void,
  expected: Expected = {},
  deps: CacheDeps = browser(),
  onNotKept?: (why: string) => void,
): Promise<Uint8Array> {
  const cache = await deps.caches.open(MODEL_CACHE);
  const hit = await cache.match(url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    // checked when it was kept; a size that no longer matches is a file the manifest has since replaced
    if (expected.size === undefined || bytes.length === expected.size) {
      onProgress?.(bytes.length, bytes.length);
      return bytes;
    }
    await cache.delete(url);
  }
  const bytes = await fetchWithProgress(url, onProgress, deps.fetch);
  const wrong = await mismatch(url, bytes, expected, deps);
  if (wrong) throw new Error(`${wrong}; nothing of it was kept: try again, or ask whoever publishes the model`);
  try {
    // kept only once whole and checked: a download cut short is never mistaken for the file
    await cache.put(
      url,
      new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
      }),
    );
  } catch (err) {
    await cache.delete(url).catch(() => false);
    const size = `${name(url)} (${(bytes.length / 1e6).toFixed(0)} MB)`;
    onNotKept?.(
      (err as Error).name === 'QuotaExceededError'
        ? `this browser has no room left to keep ${size}: free some space, or Forget downloaded models`
        : `this browser could not keep ${size} (${(err as Error).message}; a private window keeps little)`,
    );
  }
  return bytes;
}

/** Which of `urls` the cache holds. */
export async function cachedUrls(urls: string[], deps: CacheDeps = browser()): Promise<Set<string>> {
  const cache = await deps.caches.open(MODEL_CACHE);
  const held = new Set<string>();
  for (const url of urls) if (await cache.match(url)) held.add(url);
  return held;
}

/** Deletes every downloaded model file; says how many files and bytes that freed. */
export async function forgetModels(deps: CacheDeps = browser()): Promise<{ files: number; bytes: number }> {
  if (!(await deps.caches.has(MODEL_CACHE))) return { files: 0, bytes: 0 };
  const cache = await deps.caches.open(MODEL_CACHE);
  let bytes = 0;
  const keys = await cache.keys();
  for (const request of keys) {
    const response = await cache.match(request);
    bytes += Number(response?.headers.get('Content-Length') ?? 0);
  }
  await deps.caches.delete(MODEL_CACHE);
  return { files: keys.length, bytes };
}
