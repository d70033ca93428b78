// Files from elsewhere enter the browser's cache whole and as the manifest lists them, or not at all (issue 26):
// a download cut short, one of the wrong size or with other bytes, and a full disk each give a clear message and
// leave nothing half-written, and the next try starts clean. Cache Storage and fetch are stand-ins here; the
// end-to-end test (hub.e2e.ts) runs the real ones.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedFile, forgetModels, MODEL_CACHE, type CacheDeps } from '../../src/worker/model-cache.ts';

/** Cache Storage over a Map: what `put` was given is what `match` returns; `quotaBytes` makes `put` fail past it. */
function fakeCaches(quotaBytes = Infinity) {
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

function setup(quota = Infinity, failures = 0) {
  const c = fakeCaches(quota);
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

  it('a full disk says so, keeps nothing of that file, and what was kept before stays whole', async () => {
    const { deps, kept } = setup(FILE.length + 100);
    const other = 'https://example.org/family/ar/onnx/model.onnx';
    await cachedFile(other, undefined, { size: FILE.length }, deps);
    await expect(cachedFile(URL_, undefined, { size: FILE.length }, deps)).rejects.toThrow(
      /no room left to keep onnx\/model_cached.onnx .* Forget downloaded models; the files kept so far are whole/,
    );
    expect(kept()).toBe(1);
    expect(await forgetModels(deps)).toEqual({ files: 1, bytes: FILE.length });
  });

  it('a kept file the manifest now lists at another size is downloaded again', async () => {
    const { deps, calls } = setup();
    await cachedFile(URL_, undefined, { size: FILE.length }, deps);
    await expect(cachedFile(URL_, undefined, { size: 10 }, deps)).rejects.toThrow(/the manifest says 10/);
    expect(calls()).toBe(2);
  });
});
