/** The terminal chat's slash commands: parsing and help text. */
import type { PresenceType } from "../stanza.ts";

/** A parsed slash command. */
export type ConsoleCommand =
  | { name: "help" }
  | { name: "quit" }
  | { name: "as"; jid: string }
  | { name: "room"; room: string }
  | { name: "chat" }
  | { name: "presence"; type: PresenceType; show?: "away" | "chat" | "dnd" | "xa"; status?: string }
  | { name: "subscribe" }
  | { name: "unsubscribe" }
  | { name: "error"; message: string };

/** Help shown by `/help`. */
export const CONSOLE_HELP = [
  "Terminal chat commands:",
  "  /as <jid>                 act as another sender, e.g. /as bob@example.org",
  "  /room <room-jid>          speak in a group chat, e.g. /room lobby@conference.console.local",
  "  /chat                     back to a one-to-one chat with the bot",
  "  /presence <state> [text]  send presence: available, away, chat, dnd, xa or unavailable",
  "  /subscribe, /unsubscribe  ask the bot for (or cancel) a presence subscription",
  "  /quit                     leave (Ctrl-D works too)",
  "Anything else is sent to the bot as a message.",
].join("\n");

const SHOWS = new Set(["away", "chat", "dnd", "xa"]);

/**
 * Parse a console line as a slash command. Returns undefined for ordinary text,
 * including unknown `/words`, which are sent to the bot unchanged.
 */
export function parseConsoleCommand(line: string): ConsoleCommand | undefined {
  const m = /^\/(\w+)(?:\s+(.*))?$/.exec(line.trim());
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  const rest = (m[2] ?? "").trim();
  switch (name) {
    case "help":
    case "quit":
    case "chat":
    case "subscribe":
    case "unsubscribe":
      return { name } as ConsoleCommand;
    case "exit":
      return { name: "quit" };
    case "as":
      return rest && /^[^\s@/]+@[^\s@/]+(\/\S+)?$/.test(rest)
        ? { name: "as", jid: rest }
        : { name: "error", message: "usage: /as user@domain[/resource]" };
    case "room":
    case "join":
      return rest && /^[^\s@/]+@[^\s@/]+$/.test(rest)
        ? { name: "room", room: rest }
        : { name: "error", message: "usage: /room room@conference.domain" };
    case "presence": {
      const [state = "available", ...words] = rest.split(/\s+/).filter(Boolean);
      const status = words.length ? words.join(" ") : undefined;
      if (state === "available" || state === "online") return { name: "presence", type: "available", status };
      if (state === "unavailable" || state === "offline") return { name: "presence", type: "unavailable", status };
      if (SHOWS.has(state)) return { name: "presence", type: "available", show: state as "away", status };
      return { name: "error", message: "usage: /presence available|away|chat|dnd|xa|unavailable [status text]" };
    }
    default:
      return undefined;
  }
}
