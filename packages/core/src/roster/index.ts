/** The bot's roster (RFC 6121): fetched on every new session and kept current by roster pushes. */
export { rosterOf, rosterSync } from "./sync.ts";
export { MAX_ROSTER_ITEMS, RosterView, type RosterEvents, type RosterItem, type Subscription } from "./view.ts";
