// One async lock around every InferenceSession.run(): two sessions running at once on one device is a
// known onnxruntime-web crash, and the diffusion and AR models share the device.
export class RunLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The lock every model in this realm (page, worker or Node process) shares unless given another. */
export const deviceLock = new RunLock();
