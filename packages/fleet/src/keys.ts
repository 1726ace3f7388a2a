// Redis key names of one bot's fleet. Per-account keys carry the account in a {hash tag}, so they share one Redis Cluster slot.

/** Key names under `botrun:fleet:<bot>:`. */
export class FleetKeys {
  readonly prefix: string;

  constructor(readonly bot: string) {
    this.prefix = `botrun:fleet:${bot}:`;
  }

  /** SET of every account JID. */
  get accounts(): string {
    return `${this.prefix}accounts`;
  }
  /** SET of the accounts stopped until they get new credentials (state `consent`). */
  get consent(): string {
    return `${this.prefix}consent`;
  }
  /** HASH of one account: sealed credentials, token record and version, the in-flight mark of a refresh (`spend`), state, times. */
  account(jid: string): string {
    return `${this.prefix}acct:{${jid}}`;
  }
  /** STRING: the lease, `<worker>:<epoch>:<generation>`, with a PX expiry. */
  lease(jid: string): string {
    return `${this.prefix}lease:{${jid}}`;
  }
  /** STRING counter: the account's lease generation (the fencing number). */
  generation(jid: string): string {
    return `${this.prefix}gen:{${jid}}`;
  }
  /** Prefix of the account's claimed inbound message ids (STRING keys with a PX expiry). */
  seen(jid: string): string {
    return `${this.prefix}seen:{${jid}}:`;
  }
  /** STRING with a PX expiry: one live worker (membership). */
  member(id: string): string {
    return `${this.prefix}w:${id}`;
  }
  /** ZSET of worker ids by last heartbeat (ms), for listing; liveness is the `member` key. */
  get members(): string {
    return `${this.prefix}workers`;
  }
  /** STRING counter per second window: logins started fleet-wide. */
  loginWindow(second: number): string {
    return `${this.prefix}logins:${second}`;
  }
}
