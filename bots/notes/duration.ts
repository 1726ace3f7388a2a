/** Parse short durations for reminders: `90s`, `10m`, `2h`, `1d`, `1h30m`, or a bare number of minutes. */

const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when the text is not a duration (or is zero or over 30 days). */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  let ms: number;
  if (/^\d+$/.test(t)) ms = Number(t) * UNIT.m!;
  else {
    const parts = [...t.matchAll(/(\d+)\s*([smhd])/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t.replace(/\s+/g, "")) return undefined;
    ms = parts.reduce((n, p) => n + Number(p[1]) * UNIT[p[2]!]!, 0);
  }
  return ms > 0 && ms <= 30 * UNIT.d! ? ms : undefined;
}

/** `1h 30m`, `45s`… for replies. */
export function formatDuration(ms: number): string {
  const out: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [u, s] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / s);
    if (n > 0) out.push(`${n}${u}`);
    rest -= n * s;
  }
  return out.join(" ") || "0s";
}
