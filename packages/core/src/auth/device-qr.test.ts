/** Tests of when `botrun auth --device` may draw a QR code, and the fallback without the optional `uqr` package. */
import { describe, expect, it } from "vitest";
import { canShowQr, terminalQr } from "./device-qr.ts";

describe("device-flow QR code", () => {
  it("only on a TTY that is not dumb and has a UTF-8 (or unset) locale", () => {
    expect(canShowQr({ isTTY: true }, {})).toBe(true);
    expect(canShowQr({ isTTY: true }, { LANG: "en_US.UTF-8" })).toBe(true);
    expect(canShowQr({ isTTY: false }, {})).toBe(false);
    expect(canShowQr({}, {})).toBe(false);
    expect(canShowQr({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(canShowQr({ isTTY: true }, { LC_ALL: "C", LANG: "en_US.UTF-8" })).toBe(false);
  });

  it("renders with uqr when it is installed, else resolves undefined (the caller prints the link)", async () => {
    let installed = true;
    try {
      const name = "uqr";
      await import(name);
    } catch {
      installed = false;
    }
    const lines = await terminalQr("https://example.com/device?user_code=WDJB-MJHT");
    if (installed) {
      expect(lines!.length).toBeGreaterThan(10);
      expect(lines!.every((l) => /^[ ▀▄█]+$/.test(l))).toBe(true);
    } else expect(lines).toBeUndefined();
  });
});
