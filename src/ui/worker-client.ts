// The page's side of DemoBackend: posts requests to the model worker and routes replies by request id.
// Replies to an older request (a superseded load or generation) are dropped.
import type { DeviceBenchResult } from '../core/measure/device-bench.ts';
import type { EngineInfo, GenerateRequest, GenerateResult } from '../core/engine.ts';
import type { LoadPlan } from '../core/models/model-source.ts';
import type { Backend } from '../core/models/onnx/graph.ts';
import type {
  DemoBackend,
  GenerateEvents,
  LoadEvents,
  LoadRequest,
  Loaded,
  Reply,
  Request,
  ResumeRequest,
} from '../worker/protocol.ts';

export class WorkerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
  onReply: (reply: Reply) => void;
}

export class WorkerClient implements DemoBackend {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private latest = { load: 0, generate: 0 };

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<Reply>) => this.pending.get(e.data.id)?.onReply(e.data);
    worker.onerror = (e) => {
      for (const p of this.pending.values())
        p.reject(new WorkerError('WorkerError', e.message || 'the model worker crashed'));
      this.pending.clear();
    };
  }

  private send<T>(make: (id: number) => Request, onReply: (reply: Reply, settle: (v: T) => void) => void): Promise<T> {
    const id = this.nextId++;
    const req = make(id);
    // a resumed draft is a generation: the newer of the two wins
    const channel = req.kind === 'resume' ? 'generate' : req.kind;
    if (channel === 'load' || channel === 'generate') this.latest[channel] = id;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (v: never) => void,
        reject,
        onReply: (reply) => {
          const stale = (channel === 'load' || channel === 'generate') && this.latest[channel] !== id;
          if (reply.kind === 'error') {
            this.pending.delete(id);
            reject(new WorkerError(reply.error.name, reply.error.message));
          } else if (!stale || reply.kind === 'done' || reply.kind === 'loaded') {
            onReply(reply, (v) => {
              this.pending.delete(id);
              if (stale) reject(new WorkerError('SupersededError', 'a newer request replaced this one'));
              else resolve(v);
            });
          }
        },
      });
      this.worker.postMessage(req);
    });
  }

  load(load: LoadRequest, events: LoadEvents = {}): Promise<Loaded> {
    return this.send<Loaded>(
      (id) => ({ id, kind: 'load', load }),
      (reply, settle) => {
        if (reply.kind === 'progress') events.onProgress?.(reply.progress);
        else if (reply.kind === 'phase') events.onPhase?.(reply.phase);
        else if (reply.kind === 'loaded') settle(reply.loaded);
      },
    );
  }

  generate(request: GenerateRequest, events: GenerateEvents = {}): Promise<GenerateResult> {
    return this.stream((id) => ({ id, kind: 'generate', request }), events);
  }

  resume(request: ResumeRequest, events: GenerateEvents = {}): Promise<GenerateResult> {
    return this.stream((id) => ({ id, kind: 'resume', request }), events);
  }

  /** A request answered by a run's start, its steps and its result. */
  private stream(make: (id: number) => Request, events: GenerateEvents): Promise<GenerateResult> {
    return this.send<GenerateResult>(make, (reply, settle) => {
      if (reply.kind === 'start') events.onStart?.(reply.model, reply.start);
      else if (reply.kind === 'step') events.onStep?.(reply.model, reply.step);
      else if (reply.kind === 'done') settle(reply.result);
    });
  }

  samples(
    request: GenerateRequest,
    count: number,
    onSample?: (index: number, result: GenerateResult) => void,
  ): Promise<number> {
    return this.send<number>(
      (id) => ({ id, kind: 'samples', request, count }),
      (reply, settle) => {
        if (reply.kind === 'sample') onSample?.(reply.index, reply.result);
        else if (reply.kind === 'samples-done') settle(reply.count);
      },
    );
  }

  bench(onProgress?: (what: string) => void): Promise<DeviceBenchResult> {
    return this.send<DeviceBenchResult>(
      (id) => ({ id, kind: 'bench' }),
      (reply, settle) => {
        if (reply.kind === 'bench-progress') onProgress?.(reply.what);
        else if (reply.kind === 'bench-done') settle(reply.result);
      },
    );
  }

  plan(source: { root: string; label: string }, backend: 'auto' | Backend = 'auto'): Promise<LoadPlan> {
    return this.send<LoadPlan>(
      (id) => ({ id, kind: 'plan', source, backend }),
      (reply, settle) => {
        if (reply.kind === 'plan-done') settle(reply.plan);
      },
    );
  }

  forget(): Promise<{ files: number; bytes: number }> {
    return this.send<{ files: number; bytes: number }>(
      (id) => ({ id, kind: 'forget' }),
      (reply, settle) => {
        if (reply.kind === 'forgotten') settle(reply.freed);
      },
    );
  }

  cancel(): void {
    this.worker.postMessage({ id: this.nextId++, kind: 'cancel' } satisfies Request);
  }
}

export type { EngineInfo };
