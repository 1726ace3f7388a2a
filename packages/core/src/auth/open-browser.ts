/** Opening the consent URL in the user's browser where that can work (`open` on macOS, `xdg-open` with a display). */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

/**
 * Open `url` in the user's browser when that can work: `open` on macOS, `xdg-open` on other
 * systems with a DISPLAY/WAYLAND_DISPLAY. Returns whether a browser was launched; never throws.
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  let cmd: string | undefined;
  if (process.platform === "darwin") cmd = "open";
  else if (process.platform !== "win32" && (env.DISPLAY || env.WAYLAND_DISPLAY)) cmd = findInPath("xdg-open", env.PATH);
  if (!cmd) return false;
  try {
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

function findInPath(bin: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
