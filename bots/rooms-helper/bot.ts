// The rooms-helper bot: joins rooms, answers when mentioned, lets admins move it between
// rooms, and protects itself and the server with inbound and outbound rate limits.
// Configuration: ROOMS_HELPER_ROOMS="a@conference.example.org,b@…", ROOMS_HELPER_ADMINS="boss@example.org,*@ops.example.org",
// ROOMS_HELPER_MUC_SERVICES="conference.example.org" (services whose rooms may invite it, besides those of its rooms),
// ROOMS_HELPER_CATCHUP_DIR="./data/catchup" (catch up on room messages missed while it was down, XEP-0313).
import { Bot } from "@botrun/core";
import {
  access, adhoc, commands, fileStorage, mentioned, rateLimit, replyMarker, roomCatchUp, rooms, throttle,
  type RateLimitOptions, type RoomCatchUpOptions, type ThrottleOptions,
} from "@botrun/plugins";

/** Options of the rooms-helper bot. */
export interface RoomsHelperOptions {
  rooms?: string[];
  admins?: string[];
  /** MUC services whose rooms may send it mediated invites (besides the services of `rooms`). */
  mucServices?: string[];
  nick?: string;
  rateLimit?: RateLimitOptions;
  throttle?: ThrottleOptions;
  /** Catch up on room messages missed while down (the `roomCatchUp` plugin: cursors in `storage`); off when absent. */
  catchUp?: Omit<RoomCatchUpOptions, "rooms">;
}

/** Build a rooms-helper bot. */
export function createRoomsHelper(opts: RoomsHelperOptions = {}): Bot {
  const bot = new Bot({ name: "rooms-helper", description: "Joins rooms and answers when mentioned" });
  const admins = opts.admins ?? [];
  const acl = access({ admins, adminOnly: ["join", "leave"] });
  const r = rooms({ join: opts.rooms ?? [], nick: opts.nick ?? "helper", invites: admins.length ? { allow: admins } : "deny", services: opts.mucServices });
  const cmds = commands().guard(acl.guard);
  bot.install(
    rateLimit({ capacity: 5, refillPerSecond: 0.5, ...opts.rateLimit }),
    throttle({ perDestinationPerSecond: 2, ...opts.throttle }),
    r,
    ...(opts.catchUp ? [roomCatchUp(opts.catchUp)] : []), // archived room messages run commands too (ctx.caughtUp)
    cmds,
    adhoc(cmds), // every command is also a XEP-0050 ad-hoc command, guarded the same way
  );

  cmds.command("rooms", { description: "List the rooms I am in" }, (ctx) => {
    const joined = [...r.joined()].map(([room, nick]) => `${room} (as ${nick})`);
    return ctx.reply(joined.length ? joined.join("\n") : "I am not in any room.");
  });

  cmds.command("who", { description: "Who is in this room", where: "room" }, (ctx) => {
    const nicks = [...r.occupants(ctx.room!).keys()].sort();
    return ctx.reply(nicks.length ? `Here: ${nicks.join(", ")}` : "I see nobody else here.");
  });

  cmds.command(
    "roll",
    { description: "Roll a die", args: [{ name: "sides", type: "integer", optional: true }] as const },
    (ctx) => {
      const sides = ctx.params.sides ?? 6;
      if (sides < 1 || sides > 1000) return ctx.reply("A die has 1 to 1000 sides.");
      return ctx.reply(`🎲 ${1 + Math.floor(Math.random() * sides)}`);
    },
  );

  cmds.command(
    "join",
    { description: "Join a room (admins)", args: [{ name: "room", type: "string" }, { name: "password", type: "string", optional: true }] as const },
    async (ctx) => {
      if (!/^[^@/\s]+@[^@/\s]+$/.test(ctx.params.room)) return ctx.reply(`"${ctx.params.room}" is not a room address (room@service).`);
      await r.join(ctx.params.room, { password: ctx.params.password });
      return ctx.reply(`Joining ${ctx.params.room}.`);
    },
  );

  cmds.command("leave", { description: "Leave a room (admins)", args: [{ name: "room", type: "string", optional: true }] as const }, async (ctx) => {
    const room = ctx.params.room ?? ctx.room;
    if (!room) return ctx.reply("Which room? Usage: !leave <room>");
    if (!r.joined().has(room.toLowerCase())) return ctx.reply(`I am not in ${room}.`);
    await ctx.reply(`Leaving ${room}.`);
    await r.leave(room, "asked to leave");
  });

  // Mentioned without a command: say hello and point to help, as a XEP-0461 reply (a bot replying to
  // that is not mentioning us: no loop between two botrun bots), at most once a minute per occupant
  // (no loop with bots that do not mark replies either).
  const greeted = new Map<string, number>();
  bot.on("message:groupchat:body", (ctx) => {
    if (!mentioned(ctx) || ctx.caughtUp) return; // no hello for a mention made while it was away
    const now = Date.now();
    if (now - (greeted.get(ctx.from) ?? -Infinity) < GREET_EVERY_MS) return;
    greeted.delete(ctx.from);
    greeted.set(ctx.from, now);
    if (greeted.size > 1000) greeted.delete(greeted.keys().next().value!);
    return ctx.reply(`Hi ${ctx.nick}! Say \`!help\` to see what I can do.`, { children: [replyMarker(ctx)] });
  });
  return bot;
}

const GREET_EVERY_MS = 60_000;
const list = (v: string | undefined) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);

export default createRoomsHelper({
  rooms: list(process.env.ROOMS_HELPER_ROOMS),
  admins: list(process.env.ROOMS_HELPER_ADMINS),
  mucServices: list(process.env.ROOMS_HELPER_MUC_SERVICES),
  ...(process.env.ROOMS_HELPER_CATCHUP_DIR ? { catchUp: { storage: fileStorage(process.env.ROOMS_HELPER_CATCHUP_DIR) } } : {}),
});
