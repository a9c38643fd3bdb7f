// A small argument parser for the CLI: flags with values, boolean flags, positionals.

/** Wrong command-line arguments: the CLI prints usage and exits 2. */
export class UsageError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What a command declares about its flags. */
export interface FlagSpec {
  /** Flags that take a value, with their aliases: `{"-m": "model", "--model": "model"}`. */
  values?: Record<string, string>;
  /** Flags that take two values (`-o KEY VALUE`), collected as pairs. */
  pairs?: Record<string, string>;
  /** Boolean flags: `{"--json": "json"}`. */
  booleans?: Record<string, string>;
  /** Flags that may repeat (values collected in a list). */
  repeatable?: string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** Values by flag name. */
  values: Record<string, string | undefined>;
  /** Repeated values by flag name. */
  lists: Record<string, string[]>;
  /** Pairs by flag name. */
  pairs: Record<string, [string, string][]>;
  /** Booleans by flag name. */
  flags: Record<string, boolean>;
  /** Positional arguments. */
  positionals: string[];
}

/** Parses `args` by `spec`; throws UsageError for unknown flags or missing values. */
export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const out: ParsedArgs = { values: {}, lists: {}, pairs: {}, flags: {}, positionals: [] };
  for (let i = 0; i < args.length; i++) {
    let arg = args[i];
    let inline: string | undefined;
    if (arg === "--") {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--") && arg.includes("=")) {
      inline = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    if (spec.values && Object.hasOwn(spec.values, arg)) {
      const name = spec.values[arg];
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      if (spec.repeatable?.includes(name)) (out.lists[name] ??= []).push(value);
      else out.values[name] = value;
    } else if (spec.pairs && Object.hasOwn(spec.pairs, arg)) {
      const key = inline ?? args[++i];
      const value = args[++i];
      if (key === undefined || value === undefined) throw new UsageError(`${arg} needs KEY VALUE`);
      (out.pairs[spec.pairs[arg]] ??= []).push([key, value]);
    } else if (spec.booleans && Object.hasOwn(spec.booleans, arg)) {
      if (inline !== undefined) throw new UsageError(`${arg} takes no value`);
      out.flags[spec.booleans[arg]] = true;
    } else if (arg.startsWith("-") && arg !== "-") {
      // Never echo an inline value (it may be a key): "-k=sk-..." is "-k".
      throw new UsageError(`Unknown option ${arg.split("=")[0]}`);
    } else {
      out.positionals.push(arg);
    }
  }
  return out;
}

/** Parses a positive integer flag value. */
export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  }
  return Number(value);
}
