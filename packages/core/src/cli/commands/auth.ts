/**
 * `botrun auth <bot>`: run the OAuth consent flow for a bot (authorization code with a loopback
 * redirect or a pasted code, or the RFC 8628 device flow) and store its tokens (under the bot's
 * account key) in the token store, reading the `OAUTH_*` settings from the environment.
 */
import type { Argv, CommandModule } from "yargs";
import { ConfigError } from "../../config/errors.ts";
import { ExitCode } from "../../exit-codes.ts";
import { AuthConfigError } from "../../auth/errors.ts";
import { accountKeyFor, checkEndpointUrl } from "../../auth/create-provider.ts";
import { createTokenStore } from "../../auth/create-store.ts";
import { FileTokenStore } from "../../auth/file-store.ts";
import { OAuth2TokenEndpoint } from "../../auth/oauth2-endpoint.ts";
import { WrapTokenEndpoint } from "../../auth/wrap-endpoint.ts";
import { DEFAULT_OAUTH2_SCOPE, runAuthorizationFlow, type AuthorizationResult } from "../../auth/authorize.ts";
import { runDeviceFlow, type DeviceClock, type DeviceFlowResult } from "../../auth/device.ts";
import { canShowQr, terminalQr, type QrRenderer } from "../../auth/device-qr.ts";
import { discoverEndpoints } from "../../auth/metadata.ts";
import { LIVE_OAUTH2_TOKEN_URL } from "../../auth/oauth2-endpoint.ts";
import { PermanentAuthError, type TokenStore } from "../../auth/types.ts";
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
  /**
   * `true`: the device flow (`--device`); `false`: the code flow; undefined: the device flow when a
   * device endpoint is known (OAUTH_DEVICE_URL or the issuer's metadata) and there is no terminal.
   */
  device?: boolean;
  /** Whether a person sits at a terminal (stdin and stderr are TTYs); default from the process. */
  interactive?: boolean;
  /** QR renderer for `verification_uri_complete`; default `uqr` on a terminal that can show it. */
  qr?: QrRenderer | false;
  /** Clock of the device flow's polling (tests). */
  clock?: DeviceClock;
  /**
   * Where the tokens go; default the BOTRUN_TOKEN_STORE store under the bot's key. Any
   * `TokenStore` fits (a fleet account's store for a future `--account <jid>`); `where` is shown.
   */
  target?: { store: TokenStore; accountKey: string; where: string };
  /**
   * `--account <jid>`: store the tokens in that account of the bot's fleet (sealed in the Redis of
   * BOTRUN_FLEET_REDIS or `redis`, with BOTRUN_FLEET_SECRET); loads `@botrun/fleet` only then.
   */
  account?: string;
  /** `--redis`: the fleet's Redis URL, over BOTRUN_FLEET_REDIS (with `account`). */
  redis?: string;
}

/** What `@botrun/fleet` lends `--account` (loaded by name: the fleet package depends on this one). */
interface FleetConsentModule {
  openFleetConsent(o: { env: NodeJS.ProcessEnv; bot: string; jid: string; redis?: string }): Promise<{ store: TokenStore; accountKey: string; where: string; close(): Promise<void> }>;
}

/** Open the fleet account's token record for `--account`; one-line ConfigErrors (exit 2) for what is missing. */
async function fleetTarget(opts: AuthCommandOptions, jid: string): Promise<{ store: TokenStore; accountKey: string; where: string; close(): Promise<void> }> {
  if (!opts.redis?.trim() && !opts.env.BOTRUN_FLEET_REDIS?.trim()) {
    throw new ConfigError("BOTRUN_FLEET_REDIS", "the fleet's Redis URL (or --redis) with --account: the account's tokens are stored there");
  }
  const spec = "@botrun/fleet";
  let fleet: FleetConsentModule;
  try {
    fleet = (await import(spec)) as FleetConsentModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new ConfigError("--account", "the @botrun/fleet package (npm install @botrun/fleet)");
  }
  return fleet.openFleetConsent({ env: opts.env, bot: opts.botName, jid, ...(opts.redis !== undefined && { redis: opts.redis }) });
}

/** The outcome of `botrun auth`: the code flow's or the device flow's. */
export type AuthCommandResult = AuthorizationResult | DeviceFlowResult;

/**
 * Read `OAUTH_FLAVOR`, `OAUTH_ISSUER`, `OAUTH_TOKEN_URL`, `OAUTH_AUTHORIZE_URL`, `OAUTH_DEVICE_URL`,
 * `OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`, `OAUTH_SCOPE`, `OAUTH_REDIRECT_URI`, `BOTRUN_TOKEN_STORE`,
 * run the flow and store the tokens. Explicit endpoint settings win over the issuer's metadata.
 * For WRAP, `OAUTH_TOKEN_URL` is the verification-code exchange URL (AccessToken.aspx).
 */
export async function runAuthCommand(opts: AuthCommandOptions): Promise<AuthCommandResult> {
  const get = (k: string) => opts.env[k]?.trim() || undefined;
  const flavor = (get("OAUTH_FLAVOR") ?? "oauth2").toLowerCase();
  if (flavor !== "oauth2" && flavor !== "wrap") throw new AuthConfigError(`OAUTH_FLAVOR must be "oauth2" or "wrap", not "${flavor}"`, "OAUTH_FLAVOR");
  const clientId = get("OAUTH_CLIENT_ID");
  if (!clientId) throw new AuthConfigError("OAUTH_CLIENT_ID is not set: `botrun auth` needs the OAuth client id", "OAUTH_CLIENT_ID");
  const clientSecret = get("OAUTH_CLIENT_SECRET");
  const endpoint = (k: string) => {
    const v = get(k);
    return v ? checkEndpointUrl(v, k) : undefined;
  };
  const explicitTokenUrl = endpoint("OAUTH_TOKEN_URL");
  let tokenUrl = explicitTokenUrl;
  let authorizeUrl = endpoint("OAUTH_AUTHORIZE_URL");
  let deviceUrl = endpoint("OAUTH_DEVICE_URL");
  const clientAuth = get("OAUTH_CLIENT_AUTH");
  if (clientAuth && clientAuth !== "body" && clientAuth !== "basic") throw new AuthConfigError(`OAUTH_CLIENT_AUTH must be "body" or "basic"`, "OAUTH_CLIENT_AUTH");
  const issuer = get("OAUTH_ISSUER");
  if (issuer && flavor === "oauth2") {
    // RFC 8414 discovery; a setting given explicitly wins over the metadata.
    const found = await discoverEndpoints(issuer, opts.fetch ? { fetch: opts.fetch } : {});
    tokenUrl ??= found.tokenEndpoint;
    authorizeUrl ??= found.authorizationEndpoint;
    deviceUrl ??= found.deviceAuthorizationEndpoint;
  }
  const interactive = opts.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const useDevice = opts.device ?? (flavor === "oauth2" && deviceUrl !== undefined && !interactive);
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
  // Checked before anyone is sent to a consent page: the account exists and the secret opens it.
  const fleet = opts.account !== undefined && !opts.target ? await fleetTarget(opts, opts.account) : undefined;
  const target = opts.target ?? fleet;
  const accountKey = target?.accountKey ?? accountKeyFor(opts.botName);
  const store = target?.store ?? createTokenStore(get("BOTRUN_TOKEN_STORE"));
  const where = target?.where ?? (store instanceof FileTokenStore ? store.fileFor(accountKey) : "the token store");
  const out = opts.output ?? ((line: string) => process.stderr.write(line + "\n"));
  const scope = get("OAUTH_SCOPE");
  const redirectUri = get("OAUTH_REDIRECT_URI");
  const done = (result: AuthCommandResult) => {
    out(`Authorized ${opts.botName}: tokens stored in ${where}${result.tokens.refreshToken ? "" : " (no refresh token)"}.`);
    if (tokenUrl && !explicitTokenUrl) out(`The bot refreshes them at ${tokenUrl}: set OAUTH_TOKEN_URL=${tokenUrl} in its environment.`);
    return result;
  };
  // A store this command opened is closed however the flow ends (a Redis connection would keep the process alive).
  const ownStore = !target;
  try {
    if (useDevice) {
      if (flavor === "wrap") throw new AuthConfigError("OAUTH_FLAVOR=wrap has no device flow: drop --device, or use an OAuth 2.0 server", "OAUTH_FLAVOR");
      if (!deviceUrl) {
        throw new AuthConfigError("--device needs the device authorization endpoint: set OAUTH_DEVICE_URL, or OAUTH_ISSUER whose metadata lists one", "OAUTH_DEVICE_URL");
      }
      return done(
        await runDeviceFlow({
          deviceUrl,
          tokenUrl: tokenUrl ?? LIVE_OAUTH2_TOKEN_URL,
          clientId,
          ...(clientSecret && { clientSecret }),
          ...(clientAuth && { clientAuth: clientAuth as "body" | "basic" }),
          scope: scope ?? DEFAULT_OAUTH2_SCOPE,
          store,
          accountKey,
          botName: opts.botName,
          output: out,
          qr: opts.qr ?? (!opts.output && canShowQr(process.stderr) ? terminalQr : false),
          ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
          ...(opts.fetch && { fetch: opts.fetch }),
          ...(opts.clock && { clock: opts.clock }),
          ...(opts.signal && { signal: opts.signal }),
        }),
      );
    }
    const result = await runAuthorizationFlow({
      flavor,
      clientId,
      exchanger,
      store,
      accountKey,
      output: out,
      ...(authorizeUrl && { authorizeUrl }),
      ...(scope && { scope }),
      ...(redirectUri && { redirectUri }),
      ...(opts.input !== undefined && { input: opts.input }),
      ...(opts.opener !== undefined && { opener: opts.opener }),
      ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
      ...(opts.signal && { signal: opts.signal }),
    });
    return done(result);
  } finally {
    if (ownStore) await store.close?.().catch(() => {});
    await fleet?.close();
  }
}

/** Help text of `--device`. */
export const DEVICE_FLAG_HELP =
  "device code flow (RFC 8628): approve on any device with a short code; default when a device endpoint is known and there is no terminal (--no-device: browser/paste)";

/** Arguments of the `auth` command. */
export interface AuthArgs {
  bot: string;
  browser: boolean;
  timeout: number;
  device?: boolean;
  account?: string;
  redis?: string;
}

/** Help text of `--account`. */
export const ACCOUNT_FLAG_HELP = "store the consent in this account of the bot's fleet (BOTRUN_FLEET_REDIS, sealed with BOTRUN_FLEET_SECRET); its worker starts it without a restart";

/** yargs module of `botrun auth <bot>`; sets `process.exitCode` (2 config, 3 refused/expired, 1 other). */
export const authCommand: CommandModule<object, AuthArgs> = {
  command: "auth <bot>",
  describe: "Authorize a bot with OAuth (browser consent) and store its refresh token",
  builder: (y: Argv<object>) =>
    y
      .positional("bot", { type: "string", demandOption: true, describe: "bot name (token store key)" })
      .option("browser", { type: "boolean", default: true, describe: "open a browser when one is available (--no-browser to only print the URL)" })
      .option("timeout", { type: "number", default: 600, describe: "seconds to wait for the authorization" })
      .option("device", { type: "boolean", describe: DEVICE_FLAG_HELP })
      .option("account", { type: "string", describe: ACCOUNT_FLAG_HELP })
      .option("redis", { type: "string", describe: "the fleet's Redis URL with --account (BOTRUN_FLEET_REDIS)" }) as unknown as Argv<AuthArgs>,
  handler: async (argv) => {
    try {
      await runAuthCommand({
        botName: argv.bot,
        env: process.env,
        timeoutMs: argv.timeout * 1000,
        ...(argv.browser ? {} : { opener: false as const }),
        ...(argv.device !== undefined && { device: argv.device }),
        ...(argv.account !== undefined && { account: argv.account }),
        ...(argv.redis !== undefined && { redis: argv.redis }),
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
