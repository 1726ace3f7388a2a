/** Time helpers for the scheduler: parse `HH:MM` and find the next daily occurrence. */

/** Parse `"HH:MM"` (24 h); throws a clear error otherwise. */
export function parseClock(text: string): { hour: number; minute: number } {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new TypeError(`invalid time "${text}": expected HH:MM (24-hour)`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** The next moment strictly after `now` at `hour:minute`, in local time or UTC. */
export function nextDaily(now: Date, hour: number, minute: number, utc = false): Date {
  const d = new Date(now.getTime());
  if (utc) d.setUTCHours(hour, minute, 0, 0);
  else d.setHours(hour, minute, 0, 0);
  if (d.getTime() <= now.getTime()) {
    if (utc) d.setUTCDate(d.getUTCDate() + 1);
    else d.setDate(d.getDate() + 1);
    // re-apply in case a DST change moved the wall clock
    if (!utc) d.setHours(hour, minute, 0, 0);
  }
  return d;
}
