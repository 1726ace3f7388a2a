/**
 * Keeps `console.*` output free of secrets. @xmpp/debug prints the stanza trace with
 * `console.debug` (and errors with `console.error`); with this installed, `console.debug` goes
 * through the logger at debug level (component `xmpp-trace`), and every other console method
 * writes to its usual stream with registered secrets masked.
 */
import { format } from "node:util";
import { redactString, type Logger } from "../logger.ts";

type Method = "log" | "info" | "warn" | "error" | "debug" | "trace";

/** Install the redirect; returns a function that restores the original console methods. */
export function redirectConsole(logger: Logger): () => void {
  const saved = new Map<Method, (...args: unknown[]) => void>();
  const trace = logger.child({ component: "xmpp-trace" });
  const replace = (m: Method, fn: (...args: unknown[]) => void) => {
    saved.set(m, console[m] as (...args: unknown[]) => void);
    console[m] = fn;
  };
  const toStream = (stream: NodeJS.WriteStream) => (...args: unknown[]) => {
    try {
      stream.write(redactString(format(...args)) + "\n");
    } catch {
      /* stream closed */
    }
  };
  replace("debug", (...args: unknown[]) => trace.debug(redactString(format(...args))));
  replace("log", toStream(process.stdout));
  replace("info", toStream(process.stdout));
  replace("warn", toStream(process.stderr));
  replace("error", toStream(process.stderr));
  replace("trace", toStream(process.stderr));
  return () => {
    for (const [m, fn] of saved) console[m] = fn;
  };
}
