/** JID helpers: split and compare XMPP addresses without a full parser. */

/** The bare JID (`local@domain`) of a full JID, lower-cased in local and domain parts. */
export function bare(jid: string): string {
  const slash = jid.indexOf("/");
  return (slash === -1 ? jid : jid.slice(0, slash)).toLowerCase();
}

/** The resource part of a JID, or undefined. */
export function resource(jid: string): string | undefined {
  const slash = jid.indexOf("/");
  return slash === -1 ? undefined : jid.slice(slash + 1);
}

/** The domain part of a JID. */
export function domain(jid: string): string {
  const b = bare(jid);
  const at = b.indexOf("@");
  return at === -1 ? b : b.slice(at + 1);
}

/** The local part of a JID, or undefined. */
export function local(jid: string): string | undefined {
  const b = bare(jid);
  const at = b.indexOf("@");
  return at === -1 ? undefined : b.slice(0, at);
}

/** True when two JIDs name the same bare account. */
export function sameBare(a: string, b: string): boolean {
  return bare(a) === bare(b);
}
