/** Turning errors into one user-facing line and an exit code. */
import { AuthConfigError } from "../auth/errors.ts";
import { PermanentAuthError } from "../auth/types.ts";
import { ConfigError } from "../config/index.ts";
import { ExitCode } from "../exit-codes.ts";
import { redactString } from "../logger.ts";
import { BotLoadError } from "./bot-load-error.ts";
import { BotNotFoundError } from "./resolve-bot.ts";

/** The exit code an error calls for. */
export function errorExitCode(error: unknown): number {
  if (error instanceof ConfigError || error instanceof AuthConfigError || error instanceof BotNotFoundError) return ExitCode.CONFIG;
  if (error instanceof PermanentAuthError) return ExitCode.REAUTH;
  const code = (error as { exitCode?: unknown } | null)?.exitCode;
  if (typeof code === "number") return code;
  if ((error as { step?: unknown } | null)?.step !== undefined) return ExitCode.UNAVAILABLE;
  return ExitCode.FAILURE;
}

/** One line for the terminal, secrets masked (for a bot that does not compile, the code frame follows). */
export function oneLine(error: unknown, botName?: string): string {
  const msg = error instanceof Error ? error.message : String(error);
  const first = redactString(msg).split("\n")[0]!;
  const frame = error instanceof BotLoadError && error.detail ? `\n${redactString(error.detail)}` : "";
  if (first.startsWith("botrun")) return first + frame;
  return `botrun${botName ? ` [${botName}]` : ""}: ${first}${frame}`;
}
