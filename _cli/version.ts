// The package version the CLI's --version prints (tests/llm_cli_test.ts checks it against deno.json).

/** The version of this package, as in deno.json. */
export const VERSION = "0.1.0";
