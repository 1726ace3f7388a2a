// Minimal typings of @xmpp/client 0.14 as the test helpers use it (@types/xmpp__client is a
// devDependency of @botrun/core only, so the test package cannot see it).
declare module "@xmpp/client" {
  import type { Element } from "@botrun/core";
  export interface Client {
    status: string;
    jid: { toString(): string } | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    on(event: string, fn: (...args: never[]) => void): unknown;
  }
  export function client(options: Record<string, unknown>): Client;
  export function xml(name: string, attrs?: Record<string, unknown> | null, ...children: Array<Element | string>): Element;
}
