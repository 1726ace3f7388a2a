// Type-level tests: filter queries, command() and hears() narrow the context type.
// Checked by `tsc` (the test command runs the type checker) and by vitest's typecheck mode.
import { describe, expectTypeOf, it } from "vitest";
import { Bot } from "./bot.ts";
import type { Context } from "./context.ts";
import type { StanzaError } from "./stanza.ts";

const bot = new Bot({ name: "types" });

describe("filter narrowing", () => {
  it("message:body makes text a string", () => {
    bot.on("message:body", (ctx) => {
      expectTypeOf(ctx.text).toEqualTypeOf<string>();
      expectTypeOf(ctx.kind).toEqualTypeOf<"message">();
    });
    bot.on("message", (ctx) => {
      expectTypeOf(ctx.text).toEqualTypeOf<string | undefined>();
    });
  });

  it("message:groupchat gives a room", () => {
    bot.on("message:groupchat", (ctx) => {
      expectTypeOf(ctx.room).toEqualTypeOf<string>();
      expectTypeOf(ctx.type).toEqualTypeOf<"groupchat">();
    });
    bot.on("message:chat", (ctx) => {
      expectTypeOf(ctx.room).toEqualTypeOf<undefined>();
    });
  });

  it("presence queries narrow type and show", () => {
    bot.on("presence:available", (ctx) => {
      expectTypeOf(ctx.type).toEqualTypeOf<"available">();
      expectTypeOf(ctx.show).toEqualTypeOf<"online" | "away" | "chat" | "dnd" | "xa">();
    });
    bot.on("presence:subscribe", (ctx) => {
      expectTypeOf(ctx.type).toEqualTypeOf<"subscribe">();
    });
    bot.on("presence:unavailable", (ctx) => {
      expectTypeOf(ctx.kind).toEqualTypeOf<"presence">();
    });
  });

  it("error gives a StanzaError", () => {
    bot.on("error", (ctx) => {
      expectTypeOf(ctx.error).toEqualTypeOf<StanzaError>();
    });
  });

  it("a list of queries gives a union", () => {
    bot.on(["message:body", "presence:available"], (ctx) => {
      expectTypeOf(ctx.kind).toEqualTypeOf<"message" | "presence">();
    });
  });

  it("command() and hears() set their fields", () => {
    bot.command("x", (ctx) => {
      expectTypeOf(ctx.command).toEqualTypeOf<string>();
      expectTypeOf(ctx.args).toEqualTypeOf<string[]>();
      expectTypeOf(ctx.text).toEqualTypeOf<string>();
    });
    bot.hears(/a/, (ctx) => {
      expectTypeOf(ctx.match).toExtend<RegExpMatchArray | string>();
    });
  });

  it("narrowing composes through chained filters and custom contexts", () => {
    type MyContext = Context & { session: { count: number } };
    const b = new Bot<MyContext>({ name: "custom" });
    b.on("message:body").on("message:groupchat", (ctx) => {
      expectTypeOf(ctx.text).toEqualTypeOf<string>();
      expectTypeOf(ctx.room).toEqualTypeOf<string>();
      expectTypeOf(ctx.session.count).toEqualTypeOf<number>();
    });
    b.filter(
      (ctx): ctx is MyContext & { text: string } => ctx.text !== undefined,
      (ctx) => expectTypeOf(ctx.text).toEqualTypeOf<string>(),
    );
  });

  it("rejects unknown queries at compile time", () => {
    // @ts-expect-error: unknown query
    expectTypeOf(() => bot.on("message:nope", () => {})).toBeFunction();
  });
});
