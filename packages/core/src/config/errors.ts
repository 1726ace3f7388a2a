/** Configuration errors: one line naming the setting and what it expects (the CLI maps them to exit code 2). */

/** A setting is missing or invalid. `message` is one line: `SETTING: expected … (got "…")`. Never carries a secret value. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    /** The environment variable or flag at fault, e.g. `XMPP_MECHANISM`. */
    readonly setting: string,
    /** What the setting expects, e.g. `one of PLAIN, SCRAM-SHA-1`. */
    readonly expected: string,
    /** What was found; omit for secrets and for missing settings. */
    got?: string,
  ) {
    super(`${setting}: expected ${expected}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}`);
  }
}
