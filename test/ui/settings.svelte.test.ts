// The settings panel's state rules (AppState): what typing does to the options, and what is flagged inline.
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/ui/presets.ts';
import { AppState } from '../../src/ui/app-state.svelte.ts';
import type { DemoBackend } from '../../src/worker/protocol.ts';

const fresh = () => {
  const app = new AppState({} as DemoBackend);
  app.settings.setGenLength(224, false); // as after loading the default pair
  return app;
};

describe('settings', () => {
  it('typing a length keeps the blocks the rule they follow, though it passes through 1 and 10', () => {
    const app = fresh();
    // the page's outline: one block, whatever the length
    for (const typed of [1, 10, 100]) app.settings.setGenLength(typed);
    expect(app.settings.diffusion).toMatchObject({ genLength: 100, blockLength: 100, steps: 100 });
    expect(app.settings.validation).toEqual([]);
    app.settings.applyPreset(PRESETS.find((p) => p.name.startsWith('Left to right'))!);
    for (const typed of [2, 20, 200]) app.settings.setGenLength(typed);
    expect(app.settings.diffusion).toMatchObject({ genLength: 200, blockLength: 4, steps: 200 });
    app.settings.applyPreset(PRESETS.find((p) => p.blocks === 'one')!);
    for (const typed of [3, 30, 120]) app.settings.setGenLength(typed);
    expect(app.settings.diffusion).toMatchObject({ genLength: 120, blockLength: 120 });
    app.settings.setBlockLength(8);
    app.settings.setGenLength(64);
    expect(app.settings.diffusion.blockLength).toBe(8);
  });

  it('an emptied threshold keeps threshold decoding and is flagged, not silently turned back to the schedule', () => {
    const app = fresh();
    app.settings.diffusion.threshold = 0.9;
    app.settings.diffusion.threshold = Number.NaN; // what the cleared field gives
    expect(app.settings.diffusion.threshold).not.toBeNull();
    expect(app.settings.validation).toEqual(['diffusion threshold: must be a number in [0, 1], got an empty value']);
  });

  it('flags a bad infill length and bad [MASK:n] markers inline, saying what was given', () => {
    const app = fresh();
    app.settings.infillSpan = Number.NaN;
    expect(app.settings.validation).toEqual([
      'infill [MASK] length must be an integer in [1, 256], got an empty value',
    ]);
    app.settings.infillSpan = 8;
    for (const marker of ['[MASK:0]', '[MASK:-3]', '[MASK:x]', '[MASK:]']) {
      app.settings.prompt = `Once ${marker} there.`;
      expect(app.settings.validation, marker).toEqual([
        `infill: a [MASK:n] span needs an integer 1 <= n <= 256, got ${marker}`,
      ]);
    }
    app.settings.prompt = 'Once [MASK:3] there.';
    expect(app.settings.validation).toEqual([]);
  });
});
