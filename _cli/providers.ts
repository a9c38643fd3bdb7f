// CLI commands of the provider layer: `providers` (the known providers) and
// `migrate` (backends to providers).
import { loadSettings } from "../load_settings.ts";
import { listProviders } from "../providers/registry.ts";
import { migrateSettings } from "../migrate.ts";
import { isSecretKey, maskUrl, redact } from "../_redact.ts";
import { isPlainObject } from "../_validate.ts";
import { writeTextFile } from "../_env.ts";
import { stringifyYaml } from "../_yaml.ts";
import { parseArgs, UsageError } from "./args.ts";
import type { Command } from "./context.ts";

export const providers: Command = {
  name: "providers",
  summary: "List the known providers with their base URLs and key variables",
  usage: `Usage: providers [--json]

Lists the providers usable as "provider" in PROVIDERS, with the API each speaks
("openai": chat completions, "anthropic": the native Messages API), the default
base URL and the environment variable(s) the API key is read from.
  --json   print a JSON array ({name, description, baseURL, keyEnv, requiresKey,
           builtin, protocol, structuredOutput})`,
  async run(args, context) {
    const parsed = parseArgs(args, { booleans: { "--json": "json" } });
    if (parsed.positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${parsed.positionals[0]}"`);
    }
    const infos = listProviders();
    if (parsed.flags.json) {
      await context.io.stdout(`${JSON.stringify(infos, null, 2)}\n`);
      return 0;
    }
    const rows = infos.map((info) => [
      info.name,
      info.protocol ?? "custom",
      info.baseURL ?? "(set api_base)",
      info.keyEnv.length === 0
        ? "(no key)"
        : info.keyEnv.join(" or ") + (info.requiresKey ? "" : " (optional)"),
    ]);
    const header = ["PROVIDER", "API", "BASE URL", "KEY VARIABLE"];
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => row[column].length))
    );
    const line = (row: string[]) =>
      row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]))
        .join("  ");
    await context.io.stdout([line(header), ...rows.map(line)].join("\n") + "\n");
    return 0;
  },
};

function hasSecrets(value: unknown): boolean {
  return JSON.stringify(redact(value)) !== JSON.stringify(value);
}

/** What the printed output holds in place of a key or header value: createAI() refuses it. */
const HIDDEN = "TODO: hidden here (migrate -o FILE or --show-secrets writes it)";

/** What the printed output holds in place of a URL with credentials (never a masked URL). */
const HIDDEN_URL =
  "TODO: a URL with credentials, hidden here (migrate -o FILE or --show-secrets writes it)";

/**
 * A copy of migrated settings with each key and header value replaced by a
 * TODO placeholder, which fails validation if the output is saved as it is
 * (a mask such as "***" would be sent as the key). A URL with credentials is
 * replaced whole (a URL with "***" in it would be sent as it is).
 */
function hideSecrets(value: unknown): unknown {
  if (typeof value === "string") return maskUrl(value) === value ? value : HIDDEN_URL;
  if (Array.isArray(value)) return value.map(hideSecrets);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!isSecretKey(key) || item === undefined || item === null) out[key] = hideSecrets(item);
    else if (isPlainObject(item)) {
      out[key] = Object.fromEntries(Object.keys(item).map((name) => [name, HIDDEN]));
    } else out[key] = HIDDEN;
  }
  return out;
}

export const migrate: Command = {
  name: "migrate",
  summary: "Migrate a settings file from BACKENDS to PROVIDERS (prints YAML and notes)",
  usage: `Usage: migrate [-o OUT_FILE] [--show-secrets] SETTINGS_FILE

Reads a settings file (YAML or JSON) written for backends, moves what can move
to PROVIDERS and prints the migrated settings as YAML, then the notes as YAML
comments (so the output can be saved as the new settings file).
Keys, header values and URLs with credentials are printed as "TODO: hidden
here" placeholders (which createAI() refuses, so the printed output cannot send
a placeholder as a key or URL) unless --show-secrets is given.
  -o, --output FILE   write the migrated settings to FILE (mode 0600, secrets
                      included; JSON when FILE ends in .json) and print only the notes
  --show-secrets      print keys and header values as they are`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: { "-o": "output", "--output": "output" },
      booleans: { "--show-secrets": "showSecrets" },
    });
    if (parsed.positionals.length === 0) throw new UsageError("Missing SETTINGS_FILE");
    if (parsed.positionals.length > 1) {
      throw new UsageError(`Unexpected argument "${parsed.positionals[1]}"`);
    }
    const settings = await loadSettings(parsed.positionals[0]);
    const result = migrateSettings(
      settings,
      context.llmUserPath === undefined ? {} : { llmUserPath: context.llmUserPath },
    );
    const notes = [...result.notes];
    const output = parsed.values.output;
    if (output !== undefined) {
      const text = /\.json$/i.test(output)
        ? `${JSON.stringify(result.settings, null, 2)}\n`
        : stringifyYaml(result.settings);
      await writeTextFile(output, text, { mode: 0o600 });
      await context.io.stdout(`# Migrated settings written to ${output}\n`);
    } else {
      let shown: unknown = result.settings;
      if (!parsed.flags.showSecrets && hasSecrets(result.settings)) {
        shown = hideSecrets(result.settings);
        notes.push(
          'Keys, header values and URLs with credentials are hidden behind "TODO: " ' +
            "placeholders, which createAI() refuses: set them, or use -o FILE (written with mode 0600) or --show-secrets to " +
            "get them.",
        );
      }
      await context.io.stdout(stringifyYaml(shown));
    }
    if (notes.length > 0) {
      const lines = notes.map((note) => `# - ${note.replace(/\n/g, " ")}`);
      await context.io.stdout(`\n# Migration notes:\n${lines.join("\n")}\n`);
    }
    return 0;
  },
};

export const providerCommands: Command[] = [providers, migrate];
