/**
 * The `<mechanisms/>` stream-feature handler that replaces xmpp.js's (which base64-encodes every
 * mechanism's output and has no timeout). The mechanism is chosen by the caller, never negotiated;
 * credentials are only sent on an encrypted stream unless insecure streams are explicitly allowed.
 */
import xml, { type Element } from "@xmpp/xml";
import { ExitCode } from "../exit-codes.ts";
import { XmppAuthError, XmppConnectError } from "./errors.ts";
import { MECHANISM_IMPLS, type SaslCredentials } from "./sasl-mechanisms.ts";
import type { Mechanism } from "../config/config.ts";

/** XML namespace of RFC 6120 SASL. */
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

/** The part of an xmpp.js entity the SASL step uses. */
export interface SaslEntity {
  isSecure(): boolean;
  send(el: Element): Promise<void>;
  restart(): Promise<unknown>;
  on(event: "nonza", fn: (el: Element) => void): unknown;
  removeListener(event: "nonza", fn: (el: Element) => void): unknown;
}

/** What the caller decided for this connect. */
export interface SaslChoice {
  mechanism: Mechanism;
  credentials: SaslCredentials;
}

/** Options of `saslFeature`. */
export interface SaslFeatureOptions {
  /** Decide mechanism and credentials; called on every connect with the offered mechanisms. */
  choose(offered: string[]): Promise<SaslChoice>;
  allowInsecure: boolean;
  timeoutMs: number;
  /** Told before/after the exchange (step tracking, logs). */
  onStart?(mechanism: Mechanism): void;
  onSuccess?(mechanism: Mechanism): void;
}

/** The offered mechanism names of a `<mechanisms/>` element. */
export function offeredMechanisms(el: Element): string[] {
  return el.getChildren("mechanism", NS_SASL).map((m) => m.text().trim());
}

/** Run one SASL exchange on `entity` with a timeout. Resolves on `<success/>`. */
export async function authenticate(entity: SaslEntity, choice: SaslChoice, timeoutMs: number): Promise<void> {
  const session = MECHANISM_IMPLS[choice.mechanism](choice.credentials);
  let onNonza: (el: Element) => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new XmppConnectError("SASL", `no answer from the server within ${timeoutMs} ms`)),
      timeoutMs,
    );
    onNonza = (el) => {
      if (el.getNS() !== NS_SASL) return;
      try {
        if (el.name === "challenge") {
          const reply = session.challenge(el.text());
          entity.send(xml("response", { xmlns: NS_SASL }, reply)).catch(reject);
        } else if (el.name === "success") {
          session.success(el.text());
          resolve();
        } else if (el.name === "failure") {
          const condition = el.children.find((c): c is Element => typeof c !== "string" && c.name !== "text")?.name;
          const text = el.getChildText("text") ?? "";
          reject(new XmppAuthError(`${choice.mechanism} refused: ${condition ?? "failure"}${text ? ` (${text})` : ""}`, condition));
        }
      } catch (err) {
        reject(new XmppAuthError(`${choice.mechanism}: ${(err as Error).message}`, undefined));
      }
    };
    entity.on("nonza", onNonza);
  });
  done.catch(() => {});
  try {
    await entity.send(xml("auth", { xmlns: NS_SASL, mechanism: choice.mechanism }, session.initial()));
    await done;
  } finally {
    clearTimeout(timer);
    entity.removeListener("nonza", onNonza);
  }
}

/** The stream-feature middleware: choose, check the stream is secure, authenticate, restart the stream. */
export function saslFeature(opts: SaslFeatureOptions) {
  return async ({ entity }: { entity: SaslEntity }, _next: () => Promise<unknown>, element: Element): Promise<void> => {
    const offered = offeredMechanisms(element);
    const choice = await opts.choose(offered);
    if (!offered.includes(choice.mechanism)) {
      throw new XmppAuthError(
        `the server does not offer ${choice.mechanism}; it offers ${offered.join(", ") || "no mechanism"}`,
        "mechanism-not-offered",
        ExitCode.CONFIG,
      );
    }
    if (!entity.isSecure() && !opts.allowInsecure) {
      throw new XmppConnectError(
        "TLS",
        "the stream is not encrypted (no STARTTLS offered); refusing to send credentials (XMPP_ALLOW_INSECURE=1 allows this for loopback test servers)",
        ExitCode.CONFIG,
      );
    }
    opts.onStart?.(choice.mechanism);
    await authenticate(entity, choice, opts.timeoutMs);
    opts.onSuccess?.(choice.mechanism);
    await entity.restart();
  };
}
