// Files from elsewhere enter the browser's cache whole and as the manifest lists them, or not at all (issue 26):
// a download cut short, one of the wrong size or with other bytes, and a full disk each give a clear message and
// leave nothing half-written, and the next try starts clean; a file the browser cannot keep is still used once. Cache Storage and fetch are stand-ins here; the
// end-to-end test (hub.e2e.ts) runs the real ones.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedFile, forgetModels, MODEL_CACHE, type CacheDeps } from '../../src/worker/model-cache.ts';

/**
 * Cache Storage over a Map: what `put` was given is what `match` returns; `quotaBytes` makes `put` fail past it;
 * `broken` makes every `put` leave half an entry and fail as Chromium does with a file of hundreds of MB in a
 * private window ("Unexpected internal error").
 */
function fakeCaches(quotaBytes = Infinity, broken = false) {
  const stores = new Map<string, Map<string, { body: Uint8Array; headers: [string, string][] }>>();
  const open = async (name: string) => {
    if (!stores.has(name)) stores.set(name, new Map());
    const store = stores.get(name)!;
    const used = () => [...store.values()].reduce((n, e) => n + e.body.length, 0);
    return {
      match: async (url: string | Request) => {
        const e = store.get(typeof url === 'string' ? url : url.url);
        return e ? new Response(e.body as Uint8Array<ArrayBuffer>, { headers: e.headers }) : undefined;
      },
      put: async (url: string, res: Response) => {
        const body = new Uint8Array(await res.arrayBuffer());
        if (broken) {
          store.set(String(url), { body: body.slice(0, body.length / 2), headers: [] });
          throw new TypeError("Failed to execute 'put' on 'Cache': Unexpected internal error.");
        }
        if (used() + body.length > quotaBytes) throw new DOMException('quota', 'QuotaExceededError');
        store.set(String(url), { body, headers: [...res.headers.entries()] });
      },
      delete: async (url: string) => store.delete(String(url)),
      keys: async () => [...store.keys()].map((u) => new Request(u)),
    };
  };
  return {
    stores,
    caches: {
      open,
      has: async (name: string) => stores.has(name),
      delete: async (name: string) => stores.delete(name),
    } as unknown as CacheStorage,
  };
}

/** fetch that serves `bytes`, cut after `cutAt` bytes (the connection drops) for the first `failures` calls. */
function fakeFetch(bytes: Uint8Array, failures = 0, cutAt = bytes.length / 2) {
  let calls = 0;
  const fn = (async () => {
    const broken = calls++ < failures;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, broken ? cutAt : bytes.length));
        if (broken) controller.error(new TypeError('network error: the connection was reset'));
        else controller.close();
      },
    });
    return new Response(body, { headers: { 'Content-Length': String(bytes.length) } });
  }) as unknown as typeof fetch;
  return { fn, calls: () => calls };
}

const digest = async (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const URL_ = 'https://example.org/family/mdlm/onnx/model_cached.onnx';
const FILE = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) % 251);
const SHA = createHash('sha256').update(FILE).digest('hex');

function setup(quota = Infinity, failures = 0, broken = false) {
  const c = fakeCaches(quota, broken);
  const f = fakeFetch(FILE, failures);
  const deps: CacheDeps = { caches: c.caches, fetch: f.fn, digest };
  const kept = () => c.stores.get(MODEL_CACHE)?.size ?? 0;
  return { deps, kept, calls: f.calls };
}

describe('the model cache', () => {
  it('a download cut short keeps nothing; the next try downloads it whole and keeps it', async () => {
    const { deps, kept, calls } = setup(Infinity, 1);
    await expect(cachedFile(URL_, undefined, { size: FILE.length, sha256: SHA }, deps)).rejects.toThrow(/network/);
    expect(kept()).toBe(0);
    const bytes = await cachedFile(URL_, undefined, { size: FILE.length, sha256: SHA }, deps);
    expect(bytes).toEqual(FILE);
    expect(kept()).toBe(1);
    // from the cache now: no third download
    expect(await cachedFile(URL_, undefined, { size: FILE.length, sha256: SHA }, deps)).toEqual(FILE);
    expect(calls()).toBe(2);
  });

  it('a file of another size than the manifest lists is refused, and not kept', async () => {
    const { deps, kept } = setup();
    await expect(cachedFile(URL_, undefined, { size: FILE.length + 1 }, deps)).rejects.toThrow(
      /4,096 bytes arrived, the manifest says 4,097: the download was cut short .* nothing of it was kept/,
    );
    expect(kept()).toBe(0);
  });

  it('a file whose SHA-256 is not the manifest’s is refused, and not kept', async () => {
    const { deps, kept } = setup();
    await expect(cachedFile(URL_, undefined, { size: FILE.length, sha256: '0'.repeat(64) }, deps)).rejects.toThrow(
      /mdlm\/onnx\/model_cached.onnx|model_cached.onnx: its SHA-256 is not the manifest's/,
    );
    expect(kept()).toBe(0);
  });

  it('a full disk says so and keeps nothing of that file; the file is still loaded, and what was kept stays whole', async () => {
    const { deps, kept } = setup(FILE.length + 100);
    const other = 'https://example.org/family/ar/onnx/model.onnx';
    await cachedFile(other, undefined, { size: FILE.length }, deps);
    const why: string[] = [];
    const bytes = await cachedFile(URL_, undefined, { size: FILE.length }, deps, (w) => why.push(w));
    expect(bytes).toEqual(FILE); // whole and checked: this visit uses it
    expect(why).toEqual([
      'this browser has no room left to keep onnx/model_cached.onnx (0 MB): free some space, or Forget downloaded models',
    ]);
    expect(kept()).toBe(1);
    expect(await forgetModels(deps)).toEqual({ files: 1, bytes: FILE.length });
  });

  it('a cache that fails otherwise (a private window) keeps no half entry; the file is still loaded', async () => {
    const { deps, kept, calls } = setup(Infinity, 0, true);
    const why: string[] = [];
    expect(await cachedFile(URL_, undefined, { size: FILE.length, sha256: SHA }, deps, (w) => why.push(w))).toEqual(
      FILE,
    );
    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(
      /could not keep onnx\/model_cached.onnx \(0 MB\) \(.*Unexpected internal error.*private window/,
    );
    expect(kept()).toBe(0); // the half entry the failed put left is gone
    // the next visit downloads it again rather than trusting a half file
    await cachedFile(URL_, undefined, { size: FILE.length, sha256: SHA }, deps, () => {});
    expect(calls()).toBe(2);
  });

  it('a kept file the manifest now lists at another size is downloaded again', async () => {
    const { deps, calls } = setup();
    await cachedFile(URL_, undefined, { size: FILE.length }, deps);
    await expect(cachedFile(URL_, undefined, { size: 10 }, deps)).rejects.toThrow(/the manifest says 10/);
    expect(calls()).toBe(2);
  });
});
