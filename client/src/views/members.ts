// #/members: who is in the workspace and their roles; admins and owners add people.
import { api } from '../api';
import { h, icon, mount } from '../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, select, showFieldError, withBusy } from '../forms';
import { can, session, workspaceId } from '../session';
import type { Member, Role } from '../types';
import { pageHeader, renderLoadError } from './common';
import { invitesPanel } from './invites-panel';

const ROLE_DESCRIPTIONS: Record<Role, string> = {
  owner: 'Everything, including limits and billing',
  admin: 'Manages members and API keys',
  builder: 'Creates, edits and chats with agents',
  viewer: 'Sees agents and usage',
};

export async function renderMembers(main: HTMLElement): Promise<void> {
  document.title = 'Members · Agent Host';
  const workspace = workspaceId();
  mount(main, pageHeader('Members', 'Loading…'));
  let members: Member[];
  try {
    members = await api.members(workspace);
  } catch (error) {
    renderLoadError(main, 'Members', error);
    return;
  }
  const list = h('div', null);
  const listMessage = formMessage();
  const countLabel = () => `${session.workspace!.name} · ${members.length} ${members.length === 1 ? 'person' : 'people'}`;
  const subtitle = h('span', null, countLabel());
  const reload = async () => {
    members = await api.members(workspace);
    subtitle.textContent = countLabel();
    renderList();
  };
  /** Admins manage members; only owners touch owners (the server enforces the same, and keeps the last owner). */
  function memberControls(member: Member): HTMLElement | null {
    if (!can('admin') || member.userId === session.me?.user.id) return null;
    if (member.role === 'owner' && !can('owner')) return null;
    const choices: Role[] = can('owner') ? ['viewer', 'builder', 'admin', 'owner'] : ['viewer', 'builder', 'admin'];
    const roleSelect = select(
      choices.map((value) => ({ value, label: `${value[0]!.toUpperCase()}${value.slice(1)}` })),
      { name: `role-${member.userId}`, 'aria-label': `Role of ${member.name || member.email}` },
    );
    roleSelect.value = member.role;
    roleSelect.addEventListener('change', async () => {
      listMessage.show(null);
      try {
        const changed = await api.changeMemberRole(workspace, member.userId, roleSelect.value);
        await reload();
        listMessage.show(`${member.email} is now ${changed.role}.`, 'success');
      } catch (error) {
        roleSelect.value = member.role;
        listMessage.show(errorMessage(error), 'error');
      }
    });
    const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Remove ${member.name || member.email}` }, 'Remove');
    remove.addEventListener('click', async () => {
      if (!window.confirm(`Remove ${member.email} from this workspace?`)) return;
      listMessage.show(null);
      try {
        await withBusy(remove, 'Removing…', () => api.removeMember(workspace, member.userId));
        await reload();
        listMessage.show(`${member.email} was removed.`, 'success');
      } catch (error) {
        listMessage.show(errorMessage(error), 'error');
      }
    });
    return h('span', { class: 'member-controls' }, roleSelect, remove);
  }
  function renderList(): void {
    mount(
      list,
      h(
        'ul',
        { class: 'member-list' },
        members.map((member) =>
          h(
            'li',
            { class: 'member', dataset: { email: member.email } },
            h('span', { class: 'avatar', 'aria-hidden': 'true' }, (member.name || member.email).slice(0, 1).toUpperCase()),
            h('span', { class: 'member-who' }, h('span', { class: 'member-name' }, member.name, member.userId === session.me?.user.id ? h('span', { class: 'muted' }, ' (you)') : null), h('span', { class: 'member-email' }, member.email)),
            memberControls(member) ?? h('span', { class: `badge badge-role role-${member.role}`, title: ROLE_DESCRIPTIONS[member.role] }, member.role),
          ),
        ),
      ),
      listMessage.element,
    );
  }
  renderList();

  let addSection: HTMLElement | null = null;
  if (can('admin')) {
    const email = field('Email address', input({ type: 'email', name: 'memberEmail', autocomplete: 'off', maxLength: 254 }), { required: true, hint: 'They need an Agent Host account already.' });
    const roles: Role[] = can('owner') ? ['viewer', 'builder', 'admin', 'owner'] : ['viewer', 'builder', 'admin'];
    const role = field('Role', select(roles.map((value) => ({ value, label: `${value[0]!.toUpperCase()}${value.slice(1)} — ${ROLE_DESCRIPTIONS[value]}` })), { name: 'role' }));
    role.control.value = 'builder';
    const message = formMessage();
    const add = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Add member');
    const form = h('form', { class: 'stack', novalidate: true }, h('div', { class: 'grid-2' }, email.element, role.element), h('div', { class: 'form-actions' }, message.element, add));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = { email, role };
      clearFieldErrors(fields);
      message.show(null);
      if (!email.control.value.trim()) return email.setError('Enter their email address.');
      try {
        await withBusy(add, 'Adding…', () => api.addMember(workspace, { email: email.control.value.trim(), role: role.control.value }));
        message.show(`${email.control.value.trim()} was added as ${role.control.value}.`, 'success');
        email.control.value = '';
        await reload();
      } catch (error) {
        if (!showFieldError(error, fields)) email.setError(errorMessage(error));
      }
    });
    addSection = h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Add someone who has an account'), form);
  }

  mount(
    main,
    pageHeader('Members', subtitle),
    h('div', { class: 'stack-lg' }, can('admin') ? invitesPanel(workspace, ROLE_DESCRIPTIONS) : null, addSection, h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'People and roles'), list, h('dl', { class: 'role-legend' }, (Object.keys(ROLE_DESCRIPTIONS) as Role[]).map((key) => [h('dt', null, key), h('dd', null, ROLE_DESCRIPTIONS[key])])))),
  );
}
