/** XEP-0199 ping from other entities (clients): an empty result. Server pings are answered by the XMPP client itself. */
import { NS } from "../stanza.ts";
import type { IqResponder } from "./responder.ts";

/** Answers `<ping xmlns="urn:xmpp:ping"/>` gets (XEP-0199 §4.2). */
export const pingResponder: IqResponder = { type: "get", namespace: NS.ping, answer: () => undefined };
