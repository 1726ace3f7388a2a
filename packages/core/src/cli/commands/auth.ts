/**
 * `botrun auth <bot>`: run the OAuth authorization-code flow for a bot and store its tokens
 * (under the bot's account key) in the token store, reading the `OAUTH_*` settings from the environment.
 */
import type { Argv, CommandModule } from "yargs";
import { ConfigError } from "../../config/errors.ts";
import { ExitCode } from "../../exit-codes.ts";
import { AuthConfigError } from "../../auth/errors.ts";
import { accountKeyFor, checkEndpointUrl } from "../../auth/create-provider.ts";
import { createTokenStore, FileTokenStore } from "../../auth/file-store.ts";
import { OAuth2TokenEndpoint } from "../../auth/oauth2-endpoint.ts";
import { WrapTokenEndpoint } from "../../auth/wrap-endpoint.ts";
import { runAuthorizationFlow, type AuthorizationResult } from "../../auth/authorize.ts";
import { PermanentAuthError } from "../../auth/types.ts";
import type { FetchLike } from "../../auth/http.ts";

/** Inputs of `runAuthCommand`; everything but `botName` and `env` is injectable for tests. */
export interface AuthCommandOptions {
  botName: string;
  env: NodeJS.ProcessEnv;
  input?: NodeJS.ReadableStream | null;
  output?: (line: string) => void;
  opener?: ((url: string) => unknown) | false;
  timeoutMs?: number;
  fetch?: FetchLike;
  signal?: AbortSignal;
}

/**
 * Read `OAUTH_FLAVOR`, `OAUTH_TOKEN_URL`, `OAUTH_AUTHORIZE_URL`, `OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`,
 * `OAUTH_SCOPE`, `OAUTH_REDIRECT_URI`, `BOTRUN_TOKEN_STORE`, run the flow and store the tokens.
 * For WRAP, `OAUTH_TOKEN_URL` is the verification-code exchange URL (AccessToken.aspx).
 */
export async function runAuthCommand(opts: AuthCommandOptions): Promise<AuthorizationResult> {
  const get = (k: string) => opts.env[k]?.trim() || undefined;
  const flavor = (get("OAUTH_FLAVOR") ?? "oauth2").toLowerCase();
  if (flavor !== "oauth2" && flavor !== "wrap") throw new AuthConfigError(`OAUTH_FLAVOR must be "oauth2" or "wrap", not "${flavor}"`, "OAUTH_FLAVOR");
  const clientId = get("OAUTH_CLIENT_ID");
  if (!clientId) throw new AuthConfigError("OAUTH_CLIENT_ID is not set: `botrun auth` needs the OAuth client id", "OAUTH_CLIENT_ID");
  const clientSecret = get("OAUTH_CLIENT_SECRET");
  const tokenUrl = get("OAUTH_TOKEN_URL");
  if (tokenUrl) checkEndpointUrl(tokenUrl, "OAUTH_TOKEN_URL");
  const authorizeUrl = get("OAUTH_AUTHORIZE_URL");
  if (authorizeUrl) checkEndpointUrl(authorizeUrl, "OAUTH_AUTHORIZE_URL");
  const clientAuth = get("OAUTH_CLIENT_AUTH");
  if (clientAuth && clientAuth !== "body" && clientAuth !== "basic") throw new AuthConfigError(`OAUTH_CLIENT_AUTH must be "body" or "basic"`, "OAUTH_CLIENT_AUTH");
  const exchanger =
    flavor === "wrap"
      ? new WrapTokenEndpoint({
          clientId,
          ...(clientSecret && { clientSecret }),
          ...(tokenUrl && { accessTokenUrl: tokenUrl }),
          ...(opts.fetch && { fetch: opts.fetch }),
        })
      : new OAuth2TokenEndpoint({
          clientId,
          ...(clientSecret && { clientSecret }),
          ...(tokenUrl && { tokenUrl }),
          ...(clientAuth && { clientAuth: clientAuth as "body" | "basic" }),
          ...(opts.fetch && { fetch: opts.fetch }),
        });
  const store = createTokenStore(get("BOTRUN_TOKEN_STORE"));
  const out = opts.output ?? ((line: string) => process.stderr.write(line + "\n"));
  const scope = get("OAUTH_SCOPE");
  const redirectUri = get("OAUTH_REDIRECT_URI");
  const result = await runAuthorizationFlow({
    flavor,
    clientId,
    exchanger,
    store,
    accountKey: accountKeyFor(opts.botName),
    output: out,
    ...(authorizeUrl && { authorizeUrl }),
    ...(scope && { scope }),
    ...(redirectUri && { redirectUri }),
    ...(opts.input !== undefined && { input: opts.input }),
    ...(opts.opener !== undefined && { opener: opts.opener }),
    ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
    ...(opts.signal && { signal: opts.signal }),
  });
  const where = store instanceof FileTokenStore ? store.fileFor(accountKeyFor(opts.botName)) : "the token store";
  out(`Authorized ${opts.botName}: tokens stored in ${where}${result.tokens.refreshToken ? "" : " (no refresh token)"}.`);
  return result;
}

/** Arguments of the `auth` command. */
export interface AuthArgs {
  bot: string;
  browser: boolean;
  timeout: number;
}

/** yargs module of `botrun auth <bot>`; sets `process.exitCode` (2 config, 3 refused/expired, 1 other). */
export const authCommand: CommandModule<object, AuthArgs> = {
  command: "auth <bot>",
  describe: "Authorize a bot with OAuth (browser consent) and store its refresh token",
  builder: (y: Argv<object>) =>
    y
      .positional("bot", { type: "string", demandOption: true, describe: "bot name (token store key)" })
      .option("browser", { type: "boolean", default: true, describe: "open a browser when one is available (--no-browser to only print the URL)" })
      .option("timeout", { type: "number", default: 600, describe: "seconds to wait for the authorization" }) as unknown as Argv<AuthArgs>,
  handler: async (argv) => {
    try {
      await runAuthCommand({
        botName: argv.bot,
        env: process.env,
        timeoutMs: argv.timeout * 1000,
        ...(argv.browser ? {} : { opener: false as const }),
      });
      process.exitCode = ExitCode.OK;
    } catch (err) {
      const e = err as Error;
      process.stderr.write(`botrun auth: ${e.message}\n`);
      process.exitCode =
        err instanceof ConfigError ? ExitCode.CONFIG : err instanceof PermanentAuthError || e.name === "AuthorizationError" ? ExitCode.REAUTH : ExitCode.FAILURE;
    }
  },
};
