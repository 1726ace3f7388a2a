// Rendezvous (highest random weight) assignment: each account goes to argmax hash(account, worker) over the live workers.
import { createHash } from "node:crypto";

/** The weight of `worker` for `account`: the first 8 bytes of SHA-256(account NUL worker), as an unsigned integer. */
export function weight(account: string, worker: string): bigint {
  return createHash("sha256").update(account).update("\0").update(worker).digest().readBigUInt64BE(0);
}

/**
 * The worker that should own `account` among `workers` (undefined when there are none). Every worker
 * computes the same answer from the same member list, with no coordinator: a join moves about
 * M/(N+1) accounts (only to the newcomer), a leave moves only the leaver's accounts.
 */
export function ownerOf(account: string, workers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const w of workers) {
    const x = weight(account, w);
    if (x > bestWeight || (x === bestWeight && best !== undefined && w < best)) {
      best = w;
      bestWeight = x;
    }
  }
  return best;
}
