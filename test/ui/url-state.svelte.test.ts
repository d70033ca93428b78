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
