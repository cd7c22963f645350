// #/alerts: when the workspace is alerted (thresholds), and where alerts go besides this app (webhooks, with each
// endpoint's delivery log). Admins and owners change them; everyone else sees the thresholds.
import { alertsApi, parseThresholds, THRESHOLDS_HINT, type WebhookDelivery, type WebhookEndpoint } from '../alerts-api';
import { h, icon, mount } from '../dom';
import { errorMessage, field, formMessage, input, withBusy } from '../forms';
import { formatDateTime } from '../format';
import { can, workspaceId } from '../session';
import { pageHeader, renderLoadError } from './common';

const EVENT_LABELS: Record<string, string> = {
  'alert.raised': 'an alert is raised',
  'alert.resolved': 'an alert is resolved',
  'statement.closed': 'a monthly statement is closed',
  'webhook.test': 'test event',
};

function deliveryStatus(delivery: WebhookDelivery): HTMLElement {
  if (delivery.status === 'delivered') return h('span', { class: 'badge badge-success' }, 'Delivered');
  if (delivery.status === 'failed') return h('span', { class: 'badge badge-danger' }, 'Gave up');
  return h('span', { class: 'badge badge-warning' }, delivery.attempts === 0 ? 'Sending' : 'Will retry');
}

function deliveryDetail(delivery: WebhookDelivery): string {
  const tries = `${delivery.attempts} ${delivery.attempts === 1 ? 'try' : 'tries'}`;
  if (delivery.status === 'delivered') return `${tries}, delivered ${formatDateTime(delivery.deliveredAt!)}`;
  const last = delivery.lastError ? `last answer: ${delivery.lastError}` : '';
  if (delivery.status === 'failed') return `${tries}, ${last}`;
  return [tries, last, delivery.nextAttemptAt ? `next try ${formatDateTime(delivery.nextAttemptAt)}` : ''].filter(Boolean).join(', ');
}

export async function renderAlertSettings(main: HTMLElement): Promise<void> {
  document.title = 'Alerts · Agent Host';
  const workspace = workspaceId();
  const admin = can('admin');
  mount(main, pageHeader('Alerts', 'Loading…'));
  let settings;
  let endpoints: WebhookEndpoint[] = [];
  try {
    [settings, endpoints] = await Promise.all([alertsApi.settings(workspace), admin ? alertsApi.webhooks(workspace) : Promise.resolve([])]);
  } catch (error) {
    renderLoadError(main, 'Alerts', error);
    return;
  }

  // Thresholds.
  const thresholdInput = input({ name: 'thresholds', value: settings.thresholds.join(', '), readOnly: !admin, inputMode: 'numeric' });
  const thresholds = field('Alert me when an agent has used this much of its included usage or budget (%)', thresholdInput, { hint: THRESHOLDS_HINT });
  const thresholdMessage = formMessage();
  const saveThresholds = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save thresholds');
  const resetThresholds = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Use the default (80, 100)');
  const thresholdForm = h(
    'form',
    { class: 'stack', novalidate: true },
    thresholds.element,
    h('p', { class: 'muted small' }, 'An agent can have its own thresholds in its Settings tab; they replace these for that agent.'),
    admin ? h('div', { class: 'form-actions' }, thresholdMessage.element, resetThresholds, saveThresholds) : h('p', { class: 'muted small' }, 'Only workspace admins and owners can change thresholds.'),
  );
  const save = async (values: number[] | null, button: HTMLButtonElement) => {
    thresholds.setError(null);
    thresholdMessage.show(null);
    try {
      const saved = await withBusy(button, 'Saving…', () => alertsApi.saveSettings(workspace, values));
      thresholdInput.value = saved.thresholds.join(', ');
      thresholdMessage.show(saved.isDefault ? 'Back to the default: 80 % and 100 %.' : 'Thresholds saved.', 'success');
    } catch (error) {
      thresholdMessage.show(errorMessage(error));
    }
  };
  thresholdForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = parseThresholds(thresholdInput.value);
    if (!values) return thresholds.setError(THRESHOLDS_HINT);
    void save(values, saveThresholds);
  });
  resetThresholds.addEventListener('click', () => void save(null, resetThresholds));

  const sections: HTMLElement[] = [
    h(
      'section',
      { class: 'card section' },
      h('h2', { class: 'section-title' }, 'When to alert'),
      h('p', { class: 'muted section-lead' }, 'Alerts appear under the bell at the top. They clear themselves when the cause is gone: a key replaced or working again, a limit raised, or a new month.'),
      thresholdForm,
    ),
  ];

  if (admin) {
    const list = h('div', { class: 'stack' });
    const listMessage = formMessage();
    const urlInput = input({ name: 'webhookUrl', type: 'url', placeholder: 'https://hooks.example.com/agent-host', maxLength: 2048 });
    const url = field('Send alerts to this address (HTTPS)', urlInput, { required: true, hint: 'We POST a signed JSON message there for every alert raised or resolved, and for monthly statements.' });
    const descriptionInput = input({ name: 'webhookDescription', maxLength: 200, placeholder: 'For example: ops channel' });
    const description = field('Note (optional)', descriptionInput);
    const addMessage = formMessage();
    const secretBox = h('div', { class: 'callout callout-info', hidden: true, role: 'status' });
    const add = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Add webhook');
    const addForm = h('form', { class: 'stack', novalidate: true }, url.element, description.element, h('div', { class: 'form-actions' }, addMessage.element, add));

    const renderDeliveries = async (endpoint: WebhookEndpoint, target: HTMLElement) => {
      try {
        const deliveries = await alertsApi.deliveries(workspace, endpoint.id);
        mount(
          target,
          deliveries.length === 0
            ? h('p', { class: 'muted small' }, 'Nothing sent yet.')
            : h(
                'table',
                { class: 'table delivery-log' },
                h('thead', null, h('tr', null, h('th', null, 'When'), h('th', null, 'Event'), h('th', null, 'Result'), h('th', null, 'Details'))),
                h(
                  'tbody',
                  null,
                  deliveries.map((delivery) =>
                    h('tr', null, h('td', null, formatDateTime(delivery.createdAt)), h('td', null, EVENT_LABELS[delivery.eventType] ?? delivery.eventType), h('td', null, deliveryStatus(delivery)), h('td', { class: 'small' }, deliveryDetail(delivery))),
                  ),
                ),
              ),
        );
      } catch (error) {
        mount(target, h('p', { class: 'form-message form-message-error' }, errorMessage(error)));
      }
    };

    const renderList = () => {
      mount(
        list,
        endpoints.length === 0
          ? h('p', { class: 'muted' }, 'No webhooks yet. Add one to get alerts in your own tools (chat, paging, ticketing).')
          : endpoints.map((endpoint) => {
              const log = h('div', { class: 'delivery-log-wrap' });
              const test = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Send a test');
              const refresh = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Refresh log');
              const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Delete the webhook to ${endpoint.url}` }, icon('trash'), 'Delete');
              test.addEventListener('click', async () => {
                listMessage.show(null);
                try {
                  await withBusy(test, 'Sending…', () => alertsApi.testWebhook(workspace, endpoint.id));
                  setTimeout(() => void renderDeliveries(endpoint, log), 800);
                  listMessage.show('Test event queued. The log below shows whether your address accepted it.', 'success');
                } catch (error) {
                  listMessage.show(errorMessage(error));
                }
              });
              refresh.addEventListener('click', () => void renderDeliveries(endpoint, log));
              remove.addEventListener('click', async () => {
                if (!window.confirm(`Stop sending alerts to ${endpoint.url}? Its delivery log is deleted too.`)) return;
                try {
                  await alertsApi.deleteWebhook(workspace, endpoint.id);
                  endpoints = endpoints.filter((candidate) => candidate.id !== endpoint.id);
                  renderList();
                } catch (error) {
                  listMessage.show(errorMessage(error));
                }
              });
              void renderDeliveries(endpoint, log);
              return h(
                'div',
                { class: 'webhook-endpoint', dataset: { webhookId: endpoint.id } },
                h(
                  'div',
                  { class: 'row row-between' },
                  h('div', null, h('p', { class: 'webhook-url' }, endpoint.url), h('p', { class: 'muted small' }, [endpoint.description, `Signing secret ${endpoint.secretPrefix}…`, `Sends when ${endpoint.events.map((event) => EVENT_LABELS[event] ?? event).join(', ')}`].filter(Boolean).join(' · '))),
                  h('div', { class: 'row' }, test, refresh, remove),
                ),
                h('h3', { class: 'small muted' }, 'Recent deliveries'),
                log,
              );
            }),
      );
    };
    addForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      url.setError(null);
      addMessage.show(null);
      secretBox.hidden = true;
      if (!urlInput.value.trim()) return url.setError('Enter the HTTPS address that should receive alerts.');
      try {
        const created = await withBusy(add, 'Adding…', () => alertsApi.createWebhook(workspace, { url: urlInput.value.trim(), description: descriptionInput.value.trim() || undefined }));
        const { secret, ...endpoint } = created;
        endpoints = [...endpoints, endpoint];
        urlInput.value = '';
        descriptionInput.value = '';
        mount(
          secretBox,
          h('p', null, h('strong', null, 'Copy the signing secret now: it is shown only this once.')),
          h('code', { class: 'secret-value' }, secret),
          h('p', { class: 'small' }, 'Your receiver uses it to check that a message really comes from Agent Host (see "Webhooks" in the API documentation).'),
        );
        secretBox.hidden = false;
        renderList();
      } catch (error) {
        url.setError(errorMessage(error));
      }
    });
    renderList();
    sections.push(
      h(
        'section',
        { class: 'card section' },
        h('h2', { class: 'section-title' }, 'Webhooks'),
        h('p', { class: 'muted section-lead' }, 'Messages that fail are retried for about two hours, waiting longer each time.'),
        addForm,
        secretBox,
        listMessage.element,
        list,
      ),
    );
  }
  mount(main, pageHeader('Alerts', 'When you are told, and where'), h('div', { class: 'stack-lg' }, sections));
}
