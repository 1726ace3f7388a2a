/** Loopback host names and addresses: where `XMPP_ALLOW_INSECURE` may apply. */
import net from "node:net";

/** True for `localhost`, 127.0.0.0/8, `::1` (also bracketed) and IPv4-mapped 127.x addresses. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (net.isIPv4(h)) return h.startsWith("127.");
  if (net.isIPv6(h)) return h === "::1" || h === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(h);
  return false;
}

/** The one-line fix named when `XMPP_ALLOW_INSECURE` meets a host that is not loopback. */
export const INSECURE_LOOPBACK_ONLY = "only with a loopback server (127.0.0.0/8, ::1, localhost): unset it, or use TLS (XMPP_CA_FILE for a self-signed server)";
