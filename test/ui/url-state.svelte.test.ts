// The link is input from outside: what it cannot hold or the page cannot use is left out with a notice.
import { describe, expect, it } from 'vitest';
import { AppState } from '../../src/ui/app-state.svelte.ts';
import { MAX_PROMPT_IN_LINK, fromQuery, toQuery } from '../../src/ui/url-state.ts';
import type { DemoBackend } from '../../src/worker/protocol.ts';

const app = (search: string) => {
  const a = new AppState({} as DemoBackend);
  a.readQuery(search);
  return a;
};

describe('the link', () => {
  it('leaves a long prompt out, so the link still opens', () => {
    const long = 'word '.repeat(4000);
    const q = new URLSearchParams(toQuery({ prompt: long, mode: 'both', diffusion: {}, ar: {} }));
    expect(q.has('prompt')).toBe(false);
    expect(new URLSearchParams(toQuery({ prompt: 'short', mode: 'both', diffusion: {}, ar: {} })).get('prompt')).toBe(
      'short',
    );
    expect(long.length).toBeGreaterThan(MAX_PROMPT_IN_LINK);
  });

  it('drops unknown options, inherited names included, with a notice, so Generate is not blocked', () => {
    const a = app('?diffusion=' + encodeURIComponent('{"bogus":1,"constructor":2,"temperature":0.5}'));
    expect(a.settings.diffusion.temperature).toBe(0.5);
    expect(Object.hasOwn(a.settings.diffusion, 'bogus')).toBe(false);
    expect(Object.hasOwn(a.settings.diffusion, 'constructor')).toBe(false);
    expect(a.page.notice).toMatch(/unknown diffusion options in the URL ignored: bogus, constructor/);
    expect(a.settings.validation.filter((p) => p.includes('unknown'))).toEqual([]);
  });

  it('refuses a thread count past the cores instead of hanging the load', () => {
    const cores = globalThis.navigator?.hardwareConcurrency ?? 4;
    expect(fromQuery('?threads=9999').state.threads).toBeUndefined();
    expect(fromQuery('?threads=9999').problems.join()).toMatch(
      /threads=9999 in the URL ignored: this device has \d+ cores/,
    );
    expect(fromQuery(`?threads=${cores}`).state.threads).toBe(cores);
    expect(fromQuery('?threads=0').state.threads).toBeUndefined();
  });
});

describe("a link's models from elsewhere", () => {
  /** A backend that plans (`toDownload` bytes not cached) and records what it is asked to load. */
  function recording(toDownload: number) {
    const loads: unknown[] = [];
    const plans: unknown[] = [];
    const backend = {
      plan: async (source: { root: string; label: string }) => {
        plans.push(source);
        return { ...source, pair: 'p', title: 't', files: [], total: 10, toDownload, runtimeBytes: 1, refusal: null };
      },
      load: async (request: { source?: unknown }) => {
        loads.push(request);
        throw new Error('not loaded in this test');
      },
    } as unknown as DemoBackend;
    return { backend, loads, plans };
  }

  it('are only planned, never downloaded, until the visitor clicks: the embedded models load instead', async () => {
    const { backend, loads, plans } = recording(400_000_000);
    const a = new AppState(backend);
    a.readQuery('?hub=' + encodeURIComponent('http://127.0.0.1:9') + '&model=test-org/family');
    await a.models.start();
    expect(plans).toEqual([{ root: 'http://127.0.0.1:9/test-org/family/resolve/main/', label: 'test-org/family' }]);
    expect(loads).toHaveLength(1);
    expect((loads[0] as { source?: unknown }).source).toBeUndefined();
    expect(a.models.plan?.toDownload).toBe(400_000_000); // shown, with its Download button
  });

  it('load from the cache straight away when it holds every file', async () => {
    const { backend, loads } = recording(0);
    const a = new AppState(backend);
    a.readQuery('?model=test-org/family');
    await a.models.start();
    expect((loads[0] as { source?: { label: string } }).source?.label).toBe('test-org/family');
    // this stand-in cannot load it: the page goes back to the embedded models, and says why
    expect((loads[1] as { source?: unknown }).source).toBeUndefined();
  });
});
