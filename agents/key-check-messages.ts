// What a key check found, in words that name the real cause: a rejected key, an empty account, or a provider this
// server cannot reach — which for a provider without a base URL is the server's network, not a URL to fix.
import type { KeyStatus } from './agent.model';
import { sandboxKeyFor } from './byok-sandbox';

export interface KeyCheckContext {
  providerName: string;
  /** The custom endpoint the check went to; null for a provider's own address. */
  baseUrl: string | null;
  /** The provider's own address, for the unreachable message. */
  defaultBaseUrl: string;
  keyPrefix: string | null;
  /** The key is a sandbox key: the simulator answered. */
  sandbox: boolean;
  /** The failure was the time running out rather than a refused connection. */
  timedOut?: boolean;
  /** Whether sandbox keys work on this platform (offered as the offline way out). */
  sandboxAvailable: boolean;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function describeKeyCheck(status: KeyStatus, context: KeyCheckContext): string {
  const simulated = context.sandbox ? ' (sandbox: answered by the built-in simulator)' : '';
  switch (status) {
    case 'valid':
      return `Connected: ${context.providerName} accepted the key${simulated}.`;
    case 'invalid':
      return `${context.providerName} rejected this key${simulated}. Check that you copied it completely and that it is still active.`;
    case 'rate_limited':
      return `The key works, but ${context.providerName} is rate limiting it right now. Try again in a minute.`;
    case 'quota_exceeded':
      return `The key is valid, but the ${context.providerName} account is out of credit or over its quota. Add credit with ${context.providerName}.`;
    case 'unreachable': {
      const waited = context.timedOut ? 'did not answer in time' : 'could not be reached';
      if (context.baseUrl) {
        return `${hostOf(context.baseUrl)} ${waited}. Check the base URL (including its /v1 path) and that the server is running and reachable from Agent Host.`;
      }
      const offline = context.sandboxAvailable
        ? ` To try without internet access, use the sandbox key ${sandboxKeyFor(context.keyPrefix)}.`
        : '';
      return `${context.providerName} (${hostOf(context.defaultBaseUrl)}) ${waited} from this Agent Host server. The server may be offline or blocked from the internet; your key was not checked.${offline}`;
    }
    default:
      return '';
  }
}
