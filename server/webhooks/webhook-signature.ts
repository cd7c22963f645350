// The signature of a webhook delivery: HMAC-SHA256 with the endpoint's secret over "<timestamp>.<body>", sent as
// `Agent-Host-Signature: t=<unix seconds>,v1=<hex>`. The receiver's side (verifyWebhookSignature) is the recipe
// documented in docs/API-EXTENSIONS.md ("Webhooks"): recompute, compare in constant time, refuse old timestamps.
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'agent-host-signature';
/** A delivery older than this is refused by the recipe (replay protection); the sender always signs at send time. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signWebhookBody(secret: string, timestampSeconds: number, body: string): string {
  const digest = crypto.createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/** True when `header` is a valid signature of `body` by `secret`, made within the tolerance. */
export function verifyWebhookSignature(secret: string, header: string, body: string, options: { toleranceSeconds?: number; nowSeconds?: number } = {}): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || typeof parts.v1 !== 'string') return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'), 'utf8');
  const given = Buffer.from(parts.v1, 'utf8');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
