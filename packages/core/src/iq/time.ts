/** XEP-0202 entity time: the bot's UTC time and time-zone offset. */
import { NS, xml } from "../stanza.ts";
import type { IqResponder } from "./responder.ts";

/** `+hh:mm` / `-hh:mm` of XEP-0082 for a `Date.getTimezoneOffset()` value. */
export function tzo(offsetMinutes: number): string {
  const east = -offsetMinutes;
  const abs = Math.abs(east);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${east < 0 ? "-" : "+"}${hh}:${mm}`;
}

/** Answers `<time xmlns="urn:xmpp:time"/>` gets (XEP-0202 §4): `<tzo/>` and `<utc/>` (XEP-0082, whole seconds). */
export const timeResponder: IqResponder = {
  type: "get",
  namespace: NS.time,
  answer: () => {
    const now = new Date();
    const utc = now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return xml("time", { xmlns: NS.time }, xml("tzo", {}, tzo(now.getTimezoneOffset())), xml("utc", {}, utc));
  },
};
