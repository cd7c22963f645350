// "Use my own key": provider, model from the catalog with prices, base URL for custom endpoints, the key.
import { h } from '../dom';
import { field, input, select, type Field } from '../forms';
import { formatPrice } from '../format';
import type { AgentLlm, LlmSetting, Provider } from '../types';
import { byokSetupHelp, isSandboxKey, takesBaseUrl } from './byok-setup-help';

export interface ByokForm {
  element: HTMLElement;
  value(): Extract<LlmSetting, { mode: 'byok' }>;
  validate(): boolean;
  fields: Record<string, Field<HTMLInputElement | HTMLSelectElement>>;
  /** After a successful save the raw key leaves the page: the input is emptied. */
  clearKey(): void;
}

export function byokForm(providers: Provider[], existing?: Extract<AgentLlm, { mode: 'byok' }> | null, options: { workspaceId?: string } = {}): ByokForm {
  const provider = field(
    'Provider',
    select(
      providers.map((candidate) => ({ value: candidate.id, label: candidate.name })),
      { name: 'provider' },
    ),
  );
  provider.control.value = existing?.provider ?? 'openai';

  const modelSelect = field('Model', select([], { name: 'model' }));
  const modelText = field('Model name', input({ name: 'modelName', autocomplete: 'off', spellcheck: false, placeholder: 'e.g. llama3.1:8b' }), {
    hint: 'The model id exactly as your server names it.',
  });
  const priceNote = h('p', { class: 'field-hint price-note' });
  modelSelect.element.appendChild(priceNote);

  const baseUrl = field('Base URL', input({ type: 'url', name: 'baseUrl', autocomplete: 'off', spellcheck: false, placeholder: 'https://llm.example.com/v1' }), {
    hint: 'Any OpenAI-compatible server (Ollama, vLLM, LM Studio…). Include the /v1 path if your server uses one.',
  });
  const setup = byokSetupHelp(); // experience (#18): local endpoints, the sandbox key, the key test
  baseUrl.control.value = existing?.baseUrl ?? '';

  const apiKey = field(
    existing ? 'Replace key' : 'API key',
    input({ type: 'password', name: 'apiKey', autocomplete: 'off', spellcheck: false, 'data-lpignore': 'true' }),
    { hint: existing ? 'Leave empty to keep the stored key.' : 'Stored encrypted. After saving you will only see its last characters.' },
  );
  const storedKey = existing ? h('p', { class: 'stored-key' }, 'Stored key: ', h('code', { class: 'key-mask', dataset: { testid: 'key-mask' } }, existing.key.mask)) : null;
  if (storedKey) apiKey.element.insertBefore(storedKey, apiKey.control);

  const current = () => providers.find((candidate) => candidate.id === provider.control.value) ?? providers[0]!;

  function renderModels(preferred?: string): void {
    const chosen = current();
    const anyModel = chosen.anyModel || chosen.models.length === 0;
    modelSelect.element.hidden = anyModel;
    modelText.element.hidden = !anyModel;
    baseUrl.element.hidden = !takesBaseUrl(chosen);
    setup.showFor(chosen, (key) => {
      apiKey.control.value = key;
      apiKey.setError(null);
    });
    apiKey.control.placeholder = chosen.keyPrefix ? `${chosen.keyPrefix}…` : existing ? '' : 'Your API key';
    if (anyModel) {
      if (preferred) modelText.control.value = preferred;
      return;
    }
    modelSelect.control.replaceChildren(
      ...chosen.models.map((model) =>
        h('option', { value: model.id }, `${model.id} — ${formatPrice(model.inputUsdPerMillion)} in / ${formatPrice(model.outputUsdPerMillion)} out per 1M tokens`),
      ),
    );
    if (preferred && chosen.models.some((model) => model.id === preferred)) modelSelect.control.value = preferred;
    renderPrice();
  }
  function renderPrice(): void {
    const model = current().models.find((candidate) => candidate.id === modelSelect.control.value);
    priceNote.textContent = model
      ? `What ${current().name} charges you: ${formatPrice(model.inputUsdPerMillion)} per million input tokens, ${formatPrice(model.outputUsdPerMillion)} per million output tokens · ${Math.round(model.contextWindow / 1000)}K context.`
      : '';
  }
  provider.control.addEventListener('change', () => {
    for (const candidate of [provider, modelSelect, modelText, baseUrl, apiKey]) candidate.setError(null);
    renderModels();
  });
  modelSelect.control.addEventListener('change', renderPrice);
  renderModels(existing?.model);

  const element = h(
    'div',
    { class: 'byok-form stack' },
    h('div', { class: 'grid-2' }, provider.element, h('div', null, modelSelect.element, modelText.element)),
    baseUrl.element,
    setup.localEndpoints,
    apiKey.element,
    setup.sandboxHint,
    options.workspaceId ? setup.keyTest(options.workspaceId, () => (result.validate() && apiKey.control.value.trim() ? { ...result.value(), apiKey: apiKey.control.value.trim() } : null)) : null,
  );

  const fields: Record<string, Field<HTMLInputElement | HTMLSelectElement>> = {
    provider,
    get model() {
      return modelSelect.element.hidden ? modelText : modelSelect;
    },
    modelName: modelText,
    baseUrl,
    apiKey,
  };
  const result: ByokForm = {
    element,
    fields,
    value() {
      const chosen = current();
      const anyModel = !modelText.element.hidden;
      const setting: Extract<LlmSetting, { mode: 'byok' }> = {
        mode: 'byok',
        provider: chosen.id,
        model: anyModel ? modelText.control.value.trim() : modelSelect.control.value,
      };
      const key = apiKey.control.value.trim();
      if (key) setting.apiKey = key;
      if (takesBaseUrl(chosen)) setting.baseUrl = baseUrl.control.value.trim() || null;
      return setting;
    },
    validate() {
      for (const candidate of [provider, modelSelect, modelText, baseUrl, apiKey]) candidate.setError(null);
      const chosen = current();
      if (!modelText.element.hidden && !modelText.control.value.trim()) {
        modelText.setError('Enter the model name.');
        modelText.control.focus();
        return false;
      }
      if (chosen.id === 'custom' && !baseUrl.control.value.trim() && !isSandboxKey(apiKey.control.value)) {
        baseUrl.setError('Enter the base URL of your server.');
        baseUrl.control.focus();
        return false;
      }
      const keyNeeded = !existing || existing.provider !== chosen.id;
      if (keyNeeded && !apiKey.control.value.trim() && chosen.id !== 'custom') {
        apiKey.setError(`Paste your ${chosen.name} API key.`);
        apiKey.control.focus();
        return false;
      }
      return true;
    },
    clearKey() {
      apiKey.control.value = '';
    },
  };
  return result;
}
