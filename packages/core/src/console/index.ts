/** The terminal chat transport. */
export { ConsoleTransport, type ConsoleTransportEvents, type ConsoleTransportOptions } from "./console-transport.ts";
export { CONSOLE_HELP, parseConsoleCommand, type ConsoleCommand } from "./commands.ts";
