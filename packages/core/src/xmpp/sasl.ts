/**
 * The `<mechanisms/>` stream-feature handler that replaces xmpp.js's (which base64-encodes every
 * mechanism's output and has no timeout). The mechanism is the configured one, or for `auto` the
 * strongest offered (MECHANISMS order), never negotiated down; SCRAM binds to the TLS channel where
 * it can (`-PLUS`, XEP-0440). Credentials are only sent on an encrypted stream unless insecure
 * streams are explicitly allowed.
 */
import tls from "node:tls";
import xml, { type Element } from "@xmpp/xml";
import { ExitCode } from "../exit-codes.ts";
import { XmppAuthError, XmppConnectError } from "./errors.ts";
import { mechanismFor, type SaslCredentials, type WireMechanism } from "./sasl-mechanisms.ts";
import { MECHANISMS, type Mechanism } from "../config/config.ts";
import { bindingData, chooseBinding, CHANNEL_BINDING_TYPES, type ChannelBindingType } from "./scram-channel-binding.ts";
import type { ScramBinding } from "./scram.ts";

/** XML namespace of RFC 6120 SASL. */
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
/** XEP-0440 channel-binding type capability. */
export const NS_SASL_CB = "urn:xmpp:sasl-cb:0";

/** The part of an xmpp.js entity the SASL step uses. */
export interface SaslEntity {
  isSecure(): boolean;
  /** The connection's socket: a TLS socket, or a wrapper holding one in `.socket` (sockets.ts). */
  socket?: unknown;
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

/** A resolved exchange: wire mechanism, credentials, and SCRAM's GS2 channel-binding part. */
export interface SaslPlan {
  mechanism: WireMechanism;
  credentials: SaslCredentials;
  binding: ScramBinding;
  /** Client nonce (tests only). */
  nonce?: string;
}

/** Options of `saslFeature`. */
export interface SaslFeatureOptions {
  /** Decide mechanism and credentials; called on every connect with the offered mechanisms. */
  choose(offered: string[]): Promise<SaslChoice>;
  allowInsecure: boolean;
  timeoutMs: number;
  /** Told before/after the exchange (step tracking, logs) with the mechanism actually used. */
  onStart?(mechanism: Mechanism): void;
  onSuccess?(mechanism: Mechanism): void;
}

/** The offered mechanism names of a `<mechanisms/>` element. */
export function offeredMechanisms(el: Element): string[] {
  return el.getChildren("mechanism", NS_SASL).map((m) => m.text().trim());
}

/**
 * XEP-0440 channel-binding types, or undefined when the server advertises none. The element is a
 * stream feature beside `<mechanisms/>` since XEP-0440 0.4; before, a child of it: both are read.
 */
export function advertisedBindings(features: Element | undefined, mechanisms: Element): string[] | undefined {
  const el = features?.getChild("sasl-channel-binding", NS_SASL_CB) ?? mechanisms.getChild("sasl-channel-binding", NS_SASL_CB);
  return el?.getChildren("channel-binding").map((c) => String(c.attrs.type ?? ""));
}

/** The TLS socket under an xmpp.js entity (direct TLS and STARTTLS both hold a TlsSocketWrapper). */
export function tlsSocketOf(entity: { socket?: unknown }): tls.TLSSocket | undefined {
  const s = entity.socket;
  if (s instanceof tls.TLSSocket) return s;
  const inner = (s as { socket?: unknown } | null | undefined)?.socket;
  return inner instanceof tls.TLSSocket ? inner : undefined;
}

const PASSWORD_MECHANISMS = MECHANISMS.filter((m): m is Exclude<WireMechanism, "X-MESSENGER-OAUTH2"> => m !== "auto" && m !== "X-MESSENGER-OAUTH2");

/** What `planSasl` decides from. */
export interface PlanInput {
  choice: SaslChoice;
  offered: string[];
  /** The stream is encrypted. */
  secure: boolean;
  /** The TLS socket, when there is one. */
  socket?: tls.TLSSocket;
  /** XEP-0440 types (undefined: not advertised). */
  advertised?: string[];
  /** Force a channel-binding type (tests); it must be computable on the socket. */
  bindingType?: ChannelBindingType;
}

const configError = (message: string, condition: string) => new XmppAuthError(message, condition, ExitCode.CONFIG);

/** Resolve `auto`, check the mechanism is offered, and choose SCRAM's channel binding (RFC 5802 §6). */
export function planSasl(i: PlanInput): SaslPlan {
  const offers = (m: string) => i.offered.includes(m);
  const type = i.socket ? i.bindingType ?? chooseBinding(i.socket, i.advertised) : undefined;
  let mechanism: WireMechanism;
  if (i.choice.mechanism === "auto") {
    const usable = PASSWORD_MECHANISMS.filter((m) => offers(m) && (!m.endsWith("-PLUS") || type) && (m !== "PLAIN" || i.secure));
    if (!usable[0]) {
      throw configError(
        `XMPP_MECHANISM=auto: none of the mechanisms botrun uses with a password is offered (${PASSWORD_MECHANISMS.join(", ")}); the server offers ${i.offered.join(", ") || "no mechanism"}`,
        "mechanism-not-offered",
      );
    }
    mechanism = usable[0];
  } else {
    mechanism = i.choice.mechanism;
    if (!offers(mechanism)) {
      throw configError(
        `the server does not offer ${mechanism}; it offers ${i.offered.join(", ") || "no mechanism"}; set XMPP_MECHANISM to one of them, or to auto`,
        "mechanism-not-offered",
      );
    }
  }
  let binding: ScramBinding = { flag: "n" };
  if (mechanism.endsWith("-PLUS")) {
    const data = type && i.socket ? bindingData(i.socket, type) : undefined;
    if (!type || !data) {
      throw configError(
        `${mechanism} needs TLS channel binding, and this connection has none the server accepts (${i.socket ? `${i.socket.getProtocol()}, server advertises ${i.advertised?.join(", ") ?? "no types (XEP-0440)"}` : "no TLS"}); use XMPP_MECHANISM=auto`,
        "channel-binding",
      );
    }
    binding = { flag: "p", type, data };
  } else if (mechanism.startsWith("SCRAM-") && i.socket && !i.offered.some((m) => m.endsWith("-PLUS"))) {
    // RFC 5802 §6: we could bind but the server offers no -PLUS: say so ("y"), so a server that
    // did offer -PLUS (a MITM stripped it) fails the login. Where it offers -PLUS and we do not
    // use it (forced mechanism, no mutual type: XEP-0440 §3), "n".
    if (CHANNEL_BINDING_TYPES.some((t) => bindingData(i.socket!, t) !== undefined)) binding = { flag: "y" };
  }
  return { mechanism, credentials: i.choice.credentials, binding };
}

/** Run one SASL exchange on `entity` with a timeout. Resolves on `<success/>` (after checking it). */
export async function authenticate(entity: SaslEntity, plan: SaslPlan, timeoutMs: number): Promise<void> {
  const session = mechanismFor(plan.mechanism)(plan.credentials, { binding: plan.binding, nonce: plan.nonce });
  const authError = (err: unknown) => {
    const msg = (err as Error).message;
    // Our own checks of the server's messages (SCRAM nonce, iterations, signature): permanent.
    return new XmppAuthError(msg.startsWith(plan.mechanism) ? msg : `${plan.mechanism}: ${msg}`, "malformed-request");
  };
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
          Promise.resolve(session.challenge(el.text()))
            .catch((err: unknown) => Promise.reject(authError(err)))
            .then((reply) => entity.send(xml("response", { xmlns: NS_SASL }, reply)))
            .catch(reject);
        } else if (el.name === "success") {
          session.success(el.text());
          resolve();
        } else if (el.name === "failure") {
          const condition = el.children.find((c): c is Element => typeof c !== "string" && c.name !== "text")?.name;
          const text = el.getChildText("text") ?? "";
          reject(new XmppAuthError(`${plan.mechanism} refused: ${condition ?? "failure"}${text ? ` (${text})` : ""}`, condition));
        }
      } catch (err) {
        reject(authError(err));
      }
    };
    entity.on("nonza", onNonza);
  });
  done.catch(() => {});
  try {
    await entity.send(xml("auth", { xmlns: NS_SASL, mechanism: plan.mechanism }, session.initial()));
    await done;
  } finally {
    clearTimeout(timer);
    entity.removeListener("nonza", onNonza);
  }
}

/** The stream-feature middleware: choose, check the stream is secure, authenticate, restart the stream. */
export function saslFeature(opts: SaslFeatureOptions) {
  return async (
    { entity, stanza }: { entity: SaslEntity; stanza?: Element },
    _next: () => Promise<unknown>,
    element: Element,
  ): Promise<void> => {
    const offered = offeredMechanisms(element);
    const choice = await opts.choose(offered);
    const secure = entity.isSecure();
    const plan = planSasl({ choice, offered, secure, socket: tlsSocketOf(entity), advertised: advertisedBindings(stanza, element) });
    if (!secure && !opts.allowInsecure) {
      throw new XmppConnectError(
        "TLS",
        "the stream is not encrypted (no STARTTLS offered); refusing to send credentials (XMPP_ALLOW_INSECURE=1 allows this for loopback test servers)",
        ExitCode.CONFIG,
      );
    }
    opts.onStart?.(plan.mechanism);
    await authenticate(entity, plan, opts.timeoutMs);
    opts.onSuccess?.(plan.mechanism);
    await entity.restart();
  };
}
