// The frame around every signed-in screen: brand, navigation, workspace switcher, sandbox badge, alerts, account menu.
import { api } from '../api';
import { h, icon, type IconName } from '../dom';
import { errorMessage, field, formMessage, input, withBusy } from '../forms';
import { navigate, type Route } from '../router';
import { can, loadSession, selectWorkspace, session } from '../session';
import { alertsBell } from './alerts-bell';
import { accountMenu } from './account-menu';
import { formDialog } from './form-dialog';
import { scrollHint, scrollIntoRow } from './scroll-hint';

export interface Shell {
  element: HTMLElement;
  main: HTMLElement;
  setSandbox(on: boolean): void;
  dispose(): void;
}

export function renderShell(route: Route): Shell {
  const workspace = session.workspace!;
  const navItem = (href: string, label: string, iconName: IconName, active: boolean) =>
    h('a', { class: `nav-link${active ? ' active' : ''}`, href, 'aria-current': active ? 'page' : undefined }, icon(iconName), h('span', null, label));

  const nav = h(
    'nav',
    { class: 'main-nav', 'aria-label': 'Main' },
    navItem('#/dashboard', 'Dashboard', 'chart', route.name === 'dashboard'),
    can('builder') ? navItem('#/agents/new', 'New agent', 'plus', route.name === 'new-agent') : null,
    can('admin') ? navItem('#/members', 'Members', 'users', route.name === 'members') : null,
    navItem('#/activity', 'Activity', 'bolt', route.name === 'activity'),
    can('builder') ? navItem('#/models', 'Models', 'robot', route.name === 'models') : null,
    can('owner') ? navItem('#/statements', 'Billing', 'download', route.name === 'statements' || route.name === 'statement') : null,
  );

  // On a narrow screen the links scroll sideways: a fade and an arrow show that more are there (#18 item 7), and the
  // current screen's link is scrolled into view.
  const navHint = scrollHint(nav, 'navigation links');
  navHint.element.classList.add('main-nav-hint');
  requestAnimationFrame(() => {
    const active = nav.querySelector<HTMLElement>('.nav-link.active');
    if (active) scrollIntoRow(nav, active);
    navHint.update();
  });

  const switcher = workspaceSwitcher();
  const sandboxBadge = h('span', { class: 'badge badge-sandbox', title: 'Managed plans run against the built-in provider simulator: no real model is called, and billing is simulated.', hidden: true }, 'Sandbox');
  const bell = alertsBell(workspace.id);
  const account = accountMenu();

  const main = h('main', { id: 'main', class: 'page', tabindex: '-1' });
  const element = h(
    'div',
    { class: 'app' },
    h(
      'header',
      { class: 'topbar' },
      h(
        'div',
        { class: 'topbar-inner' },
        h('a', { class: 'brand', href: '#/dashboard', 'aria-label': 'Agent Host, dashboard' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('robot', 18)), h('span', { class: 'brand-name' }, 'Agent Host')),
        navHint.element,
        h('div', { class: 'topbar-tools' }, sandboxBadge, switcher, h('span', { class: 'role-chip', title: 'Your role in this workspace' }, workspace.role), bell.element, account.element),
      ),
    ),
    main,
  );
  return {
    element,
    main,
    setSandbox(on) {
      sandboxBadge.hidden = !on;
    },
    dispose() {
      navHint.dispose();
      bell.dispose();
      account.dispose();
    },
  };
}

const NEW_WORKSPACE = '__new__';

function workspaceSwitcher(): HTMLElement {
  const workspaces = session.me!.workspaces;
  const control = h(
    'select',
    { class: 'input input-compact', id: 'workspace-switcher', 'aria-label': 'Workspace' },
    ...workspaces.map((workspace) => h('option', { value: workspace.id, selected: workspace.id === session.workspace!.id }, workspace.name)),
    h('option', { value: NEW_WORKSPACE }, '+ New workspace…'),
  );
  control.addEventListener('change', () => {
    if (control.value === NEW_WORKSPACE) {
      control.value = session.workspace!.id;
      openNewWorkspaceDialog();
      return;
    }
    selectWorkspace(control.value);
    navigate('/dashboard');
  });
  return h('div', { class: 'switcher' }, control);
}

function openNewWorkspaceDialog(): void {
  const name = field('Workspace name', input({ name: 'workspaceName', autocomplete: 'off', maxLength: 100 }), { required: true });
  const message = formMessage();
  const { dialog, form, submit: create } = formDialog('New workspace', 'Create workspace', name.element, message.element);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    name.setError(null);
    if (!name.control.value.trim()) return name.setError('Give the workspace a name.');
    try {
      const created = await withBusy(create, 'Creating…', () => api.createWorkspace(name.control.value.trim()));
      dialog.close();
      await loadSession();
      selectWorkspace(created.id);
      navigate('/dashboard');
    } catch (error) {
      message.show(errorMessage(error));
    }
  });
  dialog.showModal();
  name.control.focus();
}
