/** Process exit codes of `botrun`: which mean "fix the configuration", which mean "retry". */
export const ExitCode = {
  /** Clean stop. */
  OK: 0,
  /** Unexpected internal error: a supervisor should restart. */
  FAILURE: 1,
  /** Bad or missing configuration, unknown bot: fix the setting named in the message; do not restart. */
  CONFIG: 2,
  /** OAuth consent revoked or expired, or credentials rejected: run `botrun auth <bot>` / fix the password; do not restart. */
  REAUTH: 3,
  /** Could not connect (DNS, TCP, TLS, stream) at start: transient, restart later. */
  UNAVAILABLE: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
