// Minimal `--flag value` parser shared by the pipeline CLIs: unknown flags are errors, not silently ignored.
export function parseArgs<T extends Record<string, string | number | boolean>>(
  argv: string[],
  defaults: T,
  usage: string,
): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    const key = m?.[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!m || key === undefined || !(key in defaults)) {
      throw new Error(`unknown argument ${JSON.stringify(arg)}\n${usage}`);
    }
    const kind = typeof defaults[key];
    if (kind === 'boolean') {
      out[key] = m[2] === undefined ? true : m[2] !== 'false';
      continue;
    }
    const raw = m[2] ?? argv[++i];
    if (raw === undefined) throw new Error(`--${m[1]} needs a value\n${usage}`);
    if (kind === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new Error(`--${m[1]} must be a number, got ${JSON.stringify(raw)}`);
      out[key] = value;
    } else out[key] = raw;
  }
  return out as T;
}
