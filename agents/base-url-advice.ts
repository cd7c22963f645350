// Why a base URL was refused, in words that name the fix: a local server (Ollama, vLLM, LM Studio) is refused only
// because the operator has not allowed private addresses, which is a setting, not a typo.
import { assertSafeBaseUrl } from '../server/llm/base-url-guard';

export const PRIVATE_ADDRESS_SETTING = 'ALLOW_PRIVATE_BASE_URLS';

/** True when the URL is refused as it stands but would pass once private addresses are allowed. */
export function needsPrivateAddresses(url: string): boolean {
  try {
    assertSafeBaseUrl(url, { allowPrivate: false });
    return false;
  } catch {
    try {
      assertSafeBaseUrl(url, { allowPrivate: true });
      return true;
    } catch {
      return false;
    }
  }
}

export function explainBaseUrlRefusal(url: string, error: Error, allowPrivate: boolean): string {
  if (!allowPrivate && needsPrivateAddresses(url)) {
    return (
      'This address is on this machine or a private network (localhost, 127.0.0.1, 10.x, 192.168.x, a LAN name). ' +
      `Agent Host refuses those unless its operator starts it with ${PRIVATE_ADDRESS_SETTING}=true; then http:// works for them too. ` +
      'Otherwise use a public https:// address.'
    );
  }
  return `${error.message.replace(/\.$/, '')}.`;
}
