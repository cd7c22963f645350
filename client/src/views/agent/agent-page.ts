// #/agents/:id: the agent's header and tab strip (playground, AI setting, usage, API access, settings); each tab draws itself from its own file.
import { api, ApiError } from '../../api';
import { catalog } from '../../catalog';
import { h, icon, mount, type IconName } from '../../dom';
import type { Route } from '../../router';
import { can, workspaceId } from '../../session';
import type { Agent, Plan, Provider, Template } from '../../types';
import { llmLabel, pageHeader, renderLoadError, sandboxBadge } from '../common';
import { renderSetting } from './ai-setting-tab';
import { renderApiAccess } from './api-access-tab';
import { renderPlayground } from './playground-tab';
import { renderSettings } from './settings-tab';
import type { Context } from './tab-context';
import { renderUsage } from './usage-tab';
import { healthBadge, healthCallout, healthOf } from '../../components/agent-health';
import { scrollHint, scrollIntoRow } from '../../components/scroll-hint';
import { renderCache } from './cache-tab';
import { renderExperiments } from './experiments-tab';
// publish
import { renderPublish } from './publish-tab';
import { renderConversations } from './conversations-tab';
import { openSaveTemplateDialog } from './save-template-dialog';

type TabId = 'playground' | 'setting' | 'usage' | 'api' | 'settings' | 'cache' | 'experiments' | 'publish' | 'conversations';
const TABS: Array<{ id: TabId; label: string; icon: IconName }> = [
  { id: 'playground', label: 'Playground', icon: 'send' },
  { id: 'setting', label: 'AI setting', icon: 'bolt' },
  { id: 'usage', label: 'Usage', icon: 'chart' },
  { id: 'api', label: 'API access', icon: 'key' },
  { id: 'settings', label: 'Settings', icon: 'robot' },
  { id: 'cache', label: 'Answer cache', icon: 'copy' },
  { id: 'experiments', label: 'Experiments', icon: 'chart' },
  { id: 'publish', label: 'Publish', icon: 'share' },
  { id: 'conversations', label: 'Conversations', icon: 'chat' },
];

export async function renderAgent(main: HTMLElement, route: Route): Promise<() => void> {
  const workspace = workspaceId();
  const agentId = route.params.agentId!;
  mount(main, pageHeader('Agent', 'Loading…'));
  let agent: Agent;
  let plans: Plan[];
  let providers: Provider[];
  let templates: Template[];
  try {
    [agent, plans, providers, templates] = await Promise.all([api.agent(workspace, agentId), catalog.plans(), catalog.providers(), catalog.templates()]);
  } catch (error) {
    renderLoadError(main, error instanceof ApiError && error.status === 404 ? 'Agent not found' : 'Agent', error);
    return () => undefined;
  }
  document.title = `${agent.name} · Agent Host`;

  const header = h('div', null);
  const tabList = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Agent sections' });
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: '0' });
  // Viewers cannot chat: they land on usage.
  const defaultTab: TabId = can('builder') ? 'playground' : 'usage';
  let activeTab: TabId = (TABS.some((tab) => tab.id === route.params.tab) ? route.params.tab : defaultTab) as TabId;
  let panelCleanups: Array<() => void> = [];

  const context: Context = {
    workspace,
    agent,
    plans,
    providers,
    template: templates.find((template) => template.id === agent.templateId),
    setAgent(updated) {
      context.agent = updated;
      renderHeader();
    },
    cleanups: [],
  };
  const providerName = (id: string) => providers.find((provider) => provider.id === id)?.name ?? id;

  function renderHeader(): void {
    const current = context.agent;
    const health = healthOf(current);
    const status = healthBadge(health);
    mount(
      header,
      pageHeader(
        current.name,
        h(
          'span',
          { class: 'badges' },
          h('span', { class: `badge ${current.llm.mode === 'byok' ? 'badge-byok' : 'badge-plan'}` }, llmLabel(current.llm, plans, providerName)),
          status,
          current.sandbox && health.state !== 'sandbox' ? sandboxBadge() : null,
          h('span', { class: 'muted' }, context.template ? `From the ${context.template.name} template` : ''),
        ),
        can('builder') ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => openSaveTemplateDialog(workspace, context.agent) }, 'Save as template') : null,
        h('a', { class: 'btn btn-secondary', href: '#/dashboard' }, icon('arrowLeft'), 'Dashboard'),
      ),
      healthCallout(health, (tab) => selectTab(tab, true)),
    );
  }

  const tabButtons = TABS.map((tab) => {
    const button = h('button', { type: 'button', class: 'tab', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': 'agent-tab-panel', dataset: { tab: tab.id } }, icon(tab.icon, 16), h('span', null, tab.label));
    button.addEventListener('click', () => selectTab(tab.id, true));
    button.addEventListener('keydown', (event) => {
      const index = TABS.findIndex((candidate) => candidate.id === tab.id);
      let next = -1;
      if (event.key === 'ArrowRight') next = (index + 1) % TABS.length;
      else if (event.key === 'ArrowLeft') next = (index - 1 + TABS.length) % TABS.length;
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = TABS.length - 1;
      if (next < 0) return;
      event.preventDefault();
      selectTab(TABS[next]!.id, true);
      tabButtons[next]!.focus();
    });
    return button;
  });
  mount(tabList, tabButtons);
  panel.id = 'agent-tab-panel';

  function selectTab(id: TabId, fromUser: boolean): void {
    activeTab = id;
    for (const button of tabButtons) {
      const selected = button.dataset.tab === id;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
    }
    panel.setAttribute('aria-labelledby', `tab-${id}`);
    const selectedButton = tabButtons.find((button) => button.dataset.tab === id);
    if (selectedButton) scrollIntoRow(tabList, selectedButton);
    if (fromUser) history.replaceState(null, '', `#/agents/${agentId}${id === defaultTab ? '' : `?tab=${id}`}`);
    for (const cleanup of panelCleanups) cleanup();
    panelCleanups = [];
    const renderers: Record<TabId, (target: HTMLElement, ctx: Context) => void | (() => void) | Promise<void | (() => void)>> = {
      playground: renderPlayground,
      setting: renderSetting,
      usage: renderUsage,
      api: renderApiAccess,
      settings: renderSettings,
      cache: renderCache,
      experiments: renderExperiments,
      publish: renderPublish,
      conversations: renderConversations,
    };
    panel.replaceChildren();
    void Promise.resolve(renderers[id](panel, context)).then((cleanup) => {
      if (typeof cleanup === 'function') {
        if (activeTab === id) panelCleanups.push(cleanup);
        else cleanup();
      }
    });
  }

  context.selectTab = (tab) => selectTab(tab as TabId, true);
  context.refreshAgent = async () => context.setAgent(await api.agent(workspace, agentId));
  const tabScroller = scrollHint(tabList, 'agent sections');
  renderHeader();
  mount(main, header, tabScroller.element, panel);
  selectTab(activeTab, false);
  return () => {
    tabScroller.dispose();
    for (const cleanup of panelCleanups) cleanup();
  };
}
