/** Rate limits: inbound per-sender flood control and an outbound throttle. */
export { defaultRateKey, rateLimit, type RateLimiter, type RateLimitOptions } from "./inbound.ts";
export { throttle, ThrottleFullError, type Throttle, type ThrottleOptions } from "./outbound.ts";
export { TokenBucket } from "./token-bucket.ts";
