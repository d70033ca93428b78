// npm run generate -- --prompt "Once upon a time" --mode all|both|diffusion|block|ar [sampler options] [--json] [--replay]
// Runs the engine in Node on onnxruntime-web (WASM) and prints text and stats, the whole trace as JSON,
// or an ANSI animation of the denoising.
import * as ort from 'onnxruntime-web';
import { join, resolve } from 'node:path';
import { Engine } from '../core/engine.ts';
import { KINDS_OF_MODE, MODEL_KINDS, MODES, type Mode, type PerKind } from '../core/modes.ts';
import { readFileSync } from 'node:fs';
import type { DraftEdit, TypedEdit } from '../core/drafts/edits.ts';
import { parseTraceFile, TRACE_FORMAT } from '../core/trace/trace-file.ts';
import { nodeReadFile } from './node-files.ts';
import { toErrorInfo } from '../core/errors.ts';
import { pageSettings } from '../core/page-settings.ts';
import type { ArOptions, DiffusionOptions } from '../core/sampler/options.ts';
import type { Trace } from '../core/trace/trace.ts';
import { exitAfterOutput } from './exit.ts';
import { replayTrace } from './replay.ts';

const USAGE = `usage: npm run generate -- --prompt TEXT [--mode all|both|diffusion|block|ar] [--pair NAME] [--models DIR]
  Every option not given is the page's setting for the pair (src/core/page-settings.ts).
  --models DIR: a model tree (manifest.json and model folders), e.g. one converted by npm run export:hf
  --no-chat: a model with a chat template gets the prompt as a chat message (as the page's Chat box); this sends it as text
  all (default): every model of the pair (diffusion, block diffusion when the pair has one, AR); both: diffusion and AR
  block:     the block-diffusion model runs the diffusion options below in its own blocks (--block-length, if given,
             must be the size it was trained on)
  both:      --fill-context / --no-fill-context: the canvas (and the AR budget) runs to the context end, fitted to
             the prompt in whole blocks (the page's default, unless --gen-length or --max-new-tokens is given)
  diffusion: --gen-length N (default: the pair's own, from the manifest) --steps N --block-length N --schedule llada|dream|dllm
             --confidence probability|margin|entropy|random
             --alg-temp X --temperature X --top-k N --top-p X --cfg-scale X --threshold X --factor X
             --edit-mode off|threshold|remdm --edit-threshold X --remdm-sigma X --edit-action remask|replace
             --min-length N --no-stop-at-eot --eot-ahead X --no-eot-ahead --decide-length --no-repeat-ngram N --position-decay X --frequency-penalty X --seed N --infill-span N
             --cache off|prefix|dual|sparse|local (Fast-dLLM's KV caches, refreshed at each block start; sparse: only masks and new tokens; local: only the masks near new tokens)
  ar:        --max-new-tokens N (default: --gen-length) --no-cache (and the shared --temperature --top-k --top-p --seed --min-length)
  output:    --json (the whole trace)  --replay (ANSI animation)  --threads N
  drafts:    --resume FILE --at-step K [--remask FROM-TO]... [--set POS=TEXT]... : a saved --json output's diffusion and
             block runs go on from step K with the edits (absolute canvas positions, as in the trace; TO inclusive;
             TEXT is tokenized, a word), the AR run from its whole text (a left-to-right model keeps what comes
             before the first edit and writes the rest anew); --mode picks which runs. The run's own options apply.`;

const DIFFUSION_FLAGS: Record<string, keyof DiffusionOptions> = {
  'gen-length': 'genLength',
  steps: 'steps',
  'block-length': 'blockLength',
  schedule: 'schedule',
  confidence: 'confidence',
  'alg-temp': 'algTemp',
  temperature: 'temperature',
  'top-k': 'topK',
  'top-p': 'topP',
  'cfg-scale': 'cfgScale',
  threshold: 'threshold',
  factor: 'factor',
  'edit-mode': 'editMode',
  'edit-threshold': 'editThreshold',
  'remdm-sigma': 'remdmSigma',
  'edit-action': 'editAction',
  'min-length': 'minLength',
  'eot-ahead': 'endOfTextAhead',
  'no-repeat-ngram': 'noRepeatNgram',
  'position-decay': 'positionDecay',
  'frequency-penalty': 'frequencyPenalty',
  cache: 'cache',
  seed: 'seed',
};
const SHARED_WITH_AR = new Set(['temperature', 'top-k', 'top-p', 'seed', 'min-length']);
const STRING_FLAGS = new Set(['schedule', 'confidence', 'edit-mode', 'edit-action', 'cache']);

export interface CliArgs {
  help?: boolean;
  prompt: string;
  mode: Mode;
  pair?: string;
  models: string;
  json: boolean;
  replay: boolean;
  threads: number;
  chat: boolean;
  infillSpan?: number;
  /** A saved --json output to go on from (drafts). */
  resume?: string;
  atStep?: number;
  edits: (DraftEdit | TypedEdit)[];
  diffusion: Partial<DiffusionOptions>;
  ar: Partial<ArOptions>;
}

export function parseCliArgs(argv: string[]): CliArgs {
  const args: CliArgs = {
    prompt: '',
    mode: 'all',
    models: resolve(import.meta.dirname, '..', '..', 'models', 'pairs'),
    json: false,
    replay: false,
    threads: 1,
    chat: true,
    edits: [],
    diffusion: {},
    ar: {},
  };
  const d = args.diffusion as Record<string, unknown>;
  const a = args.ar as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].replace(/^--/, '');
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${flag} needs a value\n${USAGE}`);
      return v;
    };
    const number = () => {
      const raw = value();
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new Error(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
      return n;
    };
    if (flag === 'help' || flag === 'h') args.help = true;
    else if (flag === 'prompt') args.prompt = value();
    else if (flag === 'mode') {
      const m = value();
      if (!MODES.includes(m as Mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}, got ${m}`);
      args.mode = m as Mode;
    } else if (flag === 'pair') args.pair = value();
    else if (flag === 'models') args.models = resolve(value());
    else if (flag === 'json') args.json = true;
    else if (flag === 'replay') args.replay = true;
    else if (flag === 'no-chat') args.chat = false;
    else if (flag === 'threads') args.threads = number();
    else if (flag === 'infill-span') args.infillSpan = number();
    else if (flag === 'resume') args.resume = value();
    else if (flag === 'at-step') args.atStep = number();
    else if (flag === 'remask') {
      const m = /^(\d+)-(\d+)$/.exec(value());
      if (!m) throw new Error(`--remask takes FROM-TO (canvas positions, TO included), got ${JSON.stringify(argv[i])}`);
      args.edits.push({ kind: 'remask', from: Number(m[1]), to: Number(m[2]) + 1 });
    } else if (flag === 'set') {
      const m = /^(\d+)=([\s\S]+)$/.exec(value());
      if (!m) throw new Error(`--set takes POS=TEXT (a canvas position and a word), got ${JSON.stringify(argv[i])}`);
      args.edits.push({ kind: 'type', pos: Number(m[1]), text: m[2] });
    } else if (flag === 'no-stop-at-eot') d.stopAtEndOfText = false;
    else if (flag === 'no-eot-ahead') d.endOfTextAhead = null;
    else if (flag === 'decide-length') d.decideLength = true;
    else if (flag === 'no-cache') a.useCache = false;
    else if (flag === 'fill-context' || flag === 'no-fill-context')
      d.fillContext = a.fillContext = flag === 'fill-context';
    else if (flag === 'max-new-tokens') a.maxNewTokens = number();
    else if (flag in DIFFUSION_FLAGS) {
      const v = STRING_FLAGS.has(flag) ? value() : number();
      d[DIFFUSION_FLAGS[flag]] = v;
      if (SHARED_WITH_AR.has(flag)) a[DIFFUSION_FLAGS[flag]] = v;
    } else throw new Error(`unknown argument ${JSON.stringify(argv[i])}\n${USAGE}`);
  }
  if (args.resume !== undefined) {
    if (args.prompt) throw new Error('--resume goes on from the saved runs and their prompt: leave out --prompt');
    if (args.atStep === undefined) throw new Error('--resume needs --at-step K (0 = before the first step)');
  } else if (args.atStep !== undefined || args.edits.length) {
    throw new Error('--at-step, --remask and --set edit a saved run: give it with --resume FILE');
  }
  if (!args.prompt && !args.help && args.resume === undefined) throw new Error(`--prompt is required\n${USAGE}`);
  return args;
}

function summary(t: Trace, backend: string): string {
  const s = t.stats;
  return [
    `  ${t.termination.message}`,
    `  forward passes ${s.forwardPasses}, wall ${s.wallMs.toFixed(0)} ms, ${s.tokensPerSecond.toFixed(1)} tokens/s, ` +
      `${s.msPerPass.toFixed(2)} ms/pass, backend ${backend}`,
    `  model ${s.modelMs.toFixed(0)} ms, sampler ${s.samplerMs.toFixed(0)} ms (${(100 * s.samplerShare).toFixed(1)}% of the total)`,
    ...(t.kind === 'diffusion' ? [`  ${passSummary(t)}`] : []),
  ].join('\n');
}

/** How much of the sequence the passes computed (a cache computes windows between full passes). */
function passSummary(t: Trace): string {
  const full = t.steps.filter((s) => s.fullPass !== false).length;
  const positions = t.steps.reduce((sum, s) => sum + (s.positions ?? t.initial.length), 0);
  return (
    `cache ${(t.options as { cache?: string }).cache ?? 'off'}: ${full} full passes of ${t.steps.length}, ` +
    `${positions} positions computed (${(positions / t.steps.length).toFixed(1)} per step of ${t.initial.length})`
  );
}

/**
 * Drafts from the command line, through the engine's own resume: the saved --json output's runs of the mode go on
 * with the edits, the diffusion and block runs from --at-step, the AR run from its whole text. The file is untrusted:
 * it is checked as a trace file, and each run must be the loaded pair's model of that kind.
 */
async function resumeSaved(engine: Engine, args: CliArgs) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(args.resume!, 'utf8'));
  } catch (err) {
    throw new Error(`--resume ${args.resume}: cannot read it as JSON (${(err as Error).message})`);
  }
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const saved = parseTraceFile(isObject ? { ...(raw as object), format: TRACE_FORMAT } : raw);
  const traces: PerKind<Trace> = {};
  const skipped: PerKind<string> = {};
  const notes: PerKind<string> = {};
  for (const kind of KINDS_OF_MODE[args.mode]) {
    const trace = saved[kind];
    const model = engine.models[kind];
    if (!trace || !model) {
      skipped[kind] = trace ? `the pair ${engine.info.pair} has no such model` : 'the file holds no run of it';
      continue;
    }
    if (trace.model !== model.name) {
      throw new Error(
        `--resume: the ${kind} run was made by ${trace.model}, not ${model.name}: load its pair (--pair, --models)`,
      );
    }
    const atStep = kind === 'ar' ? trace.steps.length : args.atStep!;
    const resumed = await engine.resume(kind, { trace, atStep, edits: args.edits }).catch((err: Error) => {
      err.message = `the ${kind} run: ${err.message}`;
      throw err;
    });
    traces[kind] = resumed.trace;
    if (resumed.note) notes[kind] = resumed.note;
  }
  return { prompt: saved.prompt, traces, skipped, notes };
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  ort.env.wasm.numThreads = args.threads;
  const root = join(args.models, '/');
  try {
    const engine = await Engine.load({
      ort,
      root,
      readFile: nodeReadFile(root),
      pair: args.pair,
      backend: 'wasm',
    });
    // the page's settings for this pair, with the flags on top
    const settings = pageSettings(engine.info, { diffusion: args.diffusion, ar: args.ar });
    const result =
      args.resume !== undefined
        ? await resumeSaved(engine, args)
        : {
            prompt: args.prompt,
            notes: {},
            ...(await engine.generate({
              prompt: args.prompt,
              mode: args.mode,
              ...settings,
              // a block length given is checked against the block model's own (an error if it differs), not replaced
              block: args.diffusion.blockLength !== undefined && args.mode === 'block' ? settings.diffusion : undefined,
              infillSpan: args.infillSpan,
              chat: args.chat && engine.info.chat,
            })),
          };
    if (args.json) {
      console.log(
        JSON.stringify(
          {
            pair: engine.info.pair,
            backend: engine.info.backend,
            prompt: result.prompt,
            ...result.traces,
            skipped: result.skipped,
            ...(Object.keys(result.notes).length ? { notes: result.notes } : {}),
          },
          null,
          2,
        ),
      );
    } else {
      const { traces, skipped } = result;
      const replayed = traces.diffusion ?? traces.block;
      if (args.replay && replayed) await replayTrace(replayed, engine.tokenizer.tokenText);
      const backend = `${engine.info.backend.backend} (${engine.info.backend.reason})`;
      for (const kind of MODEL_KINDS) {
        const trace = traces[kind];
        if (trace) console.log(`\n[${kind}] ${result.prompt}${trace.answerText}\n${summary(trace, backend)}`);
        if (result.notes[kind]) console.log(`  ${result.notes[kind]}`);
        if (skipped[kind]) console.log(`\n[${kind}] not run: ${skipped[kind]}`);
      }
    }
    await engine.release();
    return 0;
  } catch (err) {
    const e = toErrorInfo(err);
    console.error(`${e.name}: ${e.message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(exitAfterOutput);
}
