// Who holds an in-flight refresh mark, in a form a sibling on the same machine can check: the kernel's pid namespace, the pid and its start time. A holder whose process is gone is dead for sure (not paused); one elsewhere can only be waited for.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";

/** `<pid namespace id>.<pid>.<start time>`, or `..` where /proc does not tell (not Linux). */
const SELF = (() => {
  try {
    const ns = `${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}/${readlinkSync("/proc/self/ns/pid")}`;
    return `${createHash("sha256").update(ns).digest("hex").slice(0, 16)}.${process.pid}.${startTime(process.pid)}`;
  } catch {
    return "..";
  }
})();

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or "" if it does not exist. */
function startTime(pid: number): string {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return "";
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
}

/** A new mark id naming this process: `<ns>.<pid>.<start>.<uuid>` (no `|`). */
export function newMarkId(): string {
  return `${SELF}.${randomUUID()}`;
}

/**
 * True only when the process that wrote mark id `id` is certainly gone: it ran in this pid
 * namespace of this boot, and that pid no longer exists or is another process (a different start
 * time). A process elsewhere (another machine or container), or this one, is never called dead.
 */
export function holderDead(id: string): boolean {
  const [ns, pid, start] = id.split(".");
  const [myNs, myPid] = SELF.split(".");
  if (!ns || !myNs || ns !== myNs || !pid || !start || pid === myPid || !/^\d+$/.test(pid)) return false;
  return startTime(Number(pid)) !== start;
}
