// #/models: the model catalog for builders — every provider's models with prices per 1M tokens, context window and
// what they can do; sortable by price or context, filterable by provider or name.
import { h, mount } from '../dom';
import { everydayApi, type CatalogModel } from '../everyday-api';
import { input, select } from '../forms';
import { formatInteger, formatPrice } from '../format';
import { pageHeader, renderLoadError } from './common';

type SortKey = 'provider' | 'input' | 'output' | 'context';

export async function renderModelCatalog(main: HTMLElement): Promise<void> {
  document.title = 'Models · Agent Host';
  mount(main, pageHeader('Models', 'Loading…'));
  let models: CatalogModel[];
  try {
    models = await everydayApi.models();
  } catch (error) {
    renderLoadError(main, 'Models', error);
    return;
  }
  const providers = [...new Map(models.map((model) => [model.provider, model.providerName])).entries()];
  const providerSelect = select([{ value: '', label: 'All providers' }, ...providers.map(([value, label]) => ({ value, label }))], { name: 'provider', 'aria-label': 'Provider' });
  const search = input({ type: 'search', name: 'search', placeholder: 'Search models', 'aria-label': 'Search models', autocomplete: 'off' });
  const sortSelect = select(
    [
      { value: 'provider', label: 'Sort: provider' },
      { value: 'input', label: 'Sort: input price' },
      { value: 'output', label: 'Sort: output price' },
      { value: 'context', label: 'Sort: context window' },
    ],
    { name: 'sort', 'aria-label': 'Sort by' },
  );
  const tbody = h('tbody', null);
  const count = h('p', { class: 'muted small', role: 'status' });

  function render(): void {
    const text = search.value.trim().toLowerCase();
    const sort = sortSelect.value as SortKey;
    const shown = models
      .filter((model) => (!providerSelect.value || model.provider === providerSelect.value) && (!text || model.id.toLowerCase().includes(text) || model.providerName.toLowerCase().includes(text)))
      .sort((a, b) =>
        sort === 'input' ? a.inputUsdPerMillion - b.inputUsdPerMillion : sort === 'output' ? a.outputUsdPerMillion - b.outputUsdPerMillion : sort === 'context' ? b.contextWindow - a.contextWindow : a.providerName.localeCompare(b.providerName) || a.id.localeCompare(b.id),
      );
    mount(
      tbody,
      shown.map((model) =>
        h(
          'tr',
          { dataset: { model: model.id } },
          h('td', { 'data-label': 'Model' }, h('code', null, model.id)),
          h('td', { 'data-label': 'Provider' }, model.providerName),
          h('td', { 'data-label': 'Input / 1M', class: 'num' }, formatPrice(model.inputUsdPerMillion)),
          h('td', { 'data-label': 'Output / 1M', class: 'num' }, formatPrice(model.outputUsdPerMillion)),
          h('td', { 'data-label': 'Context', class: 'num' }, `${formatInteger(model.contextWindow)} tokens`),
          h('td', { 'data-label': 'Max reply', class: 'num' }, model.maxOutputTokens ? formatInteger(model.maxOutputTokens) : '—'),
          h('td', { 'data-label': 'Can do' }, h('span', { class: 'badges' }, model.capabilities.map((capability) => h('span', { class: 'badge badge-neutral' }, capability)))),
        ),
      ),
    );
    count.textContent = `${shown.length} of ${models.length} models`;
  }
  for (const control of [providerSelect, sortSelect]) control.addEventListener('change', render);
  search.addEventListener('input', render);

  mount(
    main,
    pageHeader('Models', 'Prices are what each provider charges per million tokens, for agents that use your own key (BYOK).'),
    h(
      'section',
      { class: 'card section stack' },
      h('div', { class: 'catalog-filters' }, search, providerSelect, sortSelect),
      h(
        'div',
        { class: 'activity-table-wrap' },
        h(
          'table',
          { class: 'table table-cards catalog-table' },
          h('thead', null, h('tr', null, ['Model', 'Provider', 'Input / 1M', 'Output / 1M', 'Context', 'Max reply', 'Can do'].map((label, index) => h('th', { scope: 'col', class: index >= 2 && index <= 5 ? 'num' : undefined }, label)))),
          tbody,
        ),
      ),
      count,
    ),
  );
  render();
}
