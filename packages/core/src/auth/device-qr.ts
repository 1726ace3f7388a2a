/**
 * The terminal QR code of `botrun auth --device`: renders `verification_uri_complete` with the
 * optional `uqr` package (zero dependencies; light modules drawn as blocks, for dark terminals)
 * when it is installed; without it, or when the output is not a terminal that can show one,
 * the caller prints the link as a plain line.
 */

/** Renders `text` as terminal lines, or resolves undefined when no QR code can be shown. */
export type QrRenderer = (text: string) => Promise<string[] | undefined>;

interface UqrModule {
  renderUnicodeCompact(text: string, options?: { ecc?: "L" | "M" | "Q" | "H"; border?: number }): string;
}

/**
 * True when `stream` is a terminal that can show block characters: a TTY, `TERM` not `dumb`,
 * and a UTF-8 locale (or none set, the usual case in modern terminals).
 */
export function canShowQr(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!stream.isTTY || env.TERM === "dumb") return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return locale === "" || /utf-?8/i.test(locale);
}

/** The default renderer: `uqr`'s compact Unicode rendering, or undefined when `uqr` is not installed. */
export const terminalQr: QrRenderer = async (text) => {
  let mod: UqrModule;
  try {
    const name = "uqr"; // a variable: an optional dependency, not resolved at type-check time
    mod = (await import(name)) as UqrModule;
  } catch {
    return undefined;
  }
  try {
    return mod.renderUnicodeCompact(text, { ecc: "L", border: 2 }).split("\n").filter((l) => l.length > 0);
  } catch {
    return undefined; // too long to encode: the plain link is printed instead
  }
};
