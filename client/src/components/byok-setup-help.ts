// Own-key setup that cannot dead-end (experience, #18): a base URL only where the provider takes one, local servers
// (Ollama, vLLM, LM Studio) explained with the operator setting they need, a sandbox key to try any provider
// offline, and "Test key" before anything is saved.
import { api } from '../api';
import { h, icon, mount } from '../dom';
import { errorMessage, withBusy } from '../forms';
import type { LlmSetting, Provider } from '../types';
import type { KeyPretestResult } from '../../../shared/key-check-answers';

export function takesBaseUrl(provider: Provider): boolean {
  return provider.baseUrl ? provider.baseUrl !== 'none' : provider.id === 'custom';
}

/** The server's convention (agents/byok-sandbox.ts): a key containing "sandbox" is answered by the simulator. */
export function isSandboxKey(key: string): boolean {
  return /sandbox/i.test(key);
}

const LOCAL_SERVERS: Array<[string, string]> = [
  ['Ollama', 'http://localhost:11434/v1'],
  ['vLLM', 'http://localhost:8000/v1'],
  ['LM Studio', 'http://localhost:1234/v1'],
];

export interface ByokSetupHelp {
  localEndpoints: HTMLElement;
  sandboxHint: HTMLElement;
  showFor(provider: Provider, useKey: (key: string) => void): void;
  keyTest(workspaceId: string, setting: () => (Extract<LlmSetting, { mode: 'byok' }> & { apiKey: string }) | null): HTMLElement;
}

export function byokSetupHelp(): ByokSetupHelp {
  const localEndpoints = h('div', { class: 'callout callout-info local-endpoints-help', hidden: true });
  const sandboxHint = h('p', { class: 'field-hint sandbox-key-hint', hidden: true });

  function showFor(provider: Provider, useKey: (key: string) => void): void {
    localEndpoints.hidden = provider.id !== 'custom';
    if (provider.id === 'custom') {
      const allowed = provider.privateAddressesAllowed === true;
      mount(
        localEndpoints,
        h('p', { class: 'callout-title' }, 'A server on your own machine or network'),
        h('ul', { class: 'local-endpoints' }, LOCAL_SERVERS.map(([name, url]) => h('li', null, `${name}: `, h('code', null, url)))),
        h(
          'p',
          { class: 'small', dataset: { testid: 'private-addresses' } },
          allowed
            ? 'This Agent Host allows local and private addresses, plain http:// included. “localhost” means the machine Agent Host runs on.'
            : 'This Agent Host refuses local and private addresses (localhost, 10.x, 192.168.x) until its operator starts it with ALLOW_PRIVATE_BASE_URLS=true; then http:// works for them too. “localhost” means the machine Agent Host runs on, not your computer.',
        ),
      );
    }
    sandboxHint.hidden = !provider.sandboxKey;
    if (provider.sandboxKey) {
      const key = provider.sandboxKey;
      const use = h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { testid: 'use-sandbox-key' } }, 'Use the sandbox key');
      use.addEventListener('click', () => useKey(key));
      mount(
        sandboxHint,
        'Offline, or no key yet? The sandbox key ',
        h('code', null, key),
        ` makes the built-in simulator answer in ${provider.name}’s own format (billing simulated; a key with “invalid” in it is rejected, to see that case). `,
        use,
      );
    }
  }

  function keyTest(workspaceId: string, setting: () => (Extract<LlmSetting, { mode: 'byok' }> & { apiKey: string }) | null): HTMLElement {
    const button = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { testid: 'test-key' } }, icon('check'), 'Test key');
    const result = h('div', { class: 'key-test-result', role: 'status', 'aria-live': 'polite' });
    button.addEventListener('click', async () => {
      const value = setting();
      if (!value) {
        mount(result, h('p', { class: 'field-error' }, 'Paste the key to test it first.'));
        return;
      }
      try {
        const answer = await withBusy(button, 'Testing…', () => api.testKey(workspaceId, value));
        mount(result, describe(answer));
      } catch (error) {
        mount(result, h('div', { class: 'callout callout-error', dataset: { testid: 'key-test', status: 'refused' } }, h('p', null, errorMessage(error))));
      }
    });
    return h('div', { class: 'key-test' }, h('div', { class: 'key-test-row' }, button, h('span', { class: 'muted small' }, 'Checks the key with the provider. Nothing is saved.')), result);
  }

  return { localEndpoints, sandboxHint, showFor, keyTest };
}

function describe(answer: KeyPretestResult): HTMLElement {
  const tone = answer.ok ? 'success' : answer.status === 'invalid' || answer.status === 'quota_exceeded' ? 'error' : 'warning';
  const title = answer.ok ? (answer.sandbox ? 'Works (sandbox)' : 'Key works') : answer.status === 'invalid' ? 'Key rejected' : answer.status === 'quota_exceeded' ? 'Out of credit' : 'Not reached';
  return h('div', { class: `callout callout-${tone}`, dataset: { testid: 'key-test', status: answer.status } }, h('p', { class: 'callout-title' }, title), h('p', null, answer.message));
}
