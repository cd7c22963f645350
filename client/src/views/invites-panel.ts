// The members page's invite section: invite by email with a role, the link to share (and whether it was mailed),
// and the pending invites with revoke.
import { h, icon, mount } from '../dom';
import { everydayApi } from '../everyday-api';
import type { InviteSummary } from '../../../shared/invite-answers';
import { clearFieldErrors, errorMessage, field, formMessage, input, select, showFieldError, withBusy } from '../forms';
import { formatDate } from '../format';
import { can } from '../session';
import type { Role } from '../types';

export function invitesPanel(workspace: string, roleLabels: Record<Role, string>): HTMLElement {
  const pending = h('div', null);
  const created = h('div', null);
  const listMessage = formMessage();
  const email = field('Their email', input({ type: 'email', name: 'inviteEmail', autocomplete: 'off', maxLength: 254 }), { required: true, hint: 'They get a link to join; no account needed yet.' });
  const roles: Role[] = can('owner') ? ['viewer', 'builder', 'admin', 'owner'] : ['viewer', 'builder', 'admin'];
  const role = field('Invite as', select(roles.map((value) => ({ value, label: `${value[0]!.toUpperCase()}${value.slice(1)} — ${roleLabels[value]}` })), { name: 'inviteRole' }));
  role.control.value = 'viewer';
  const message = formMessage();
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Invite');
  const form = h('form', { class: 'stack', novalidate: true }, h('div', { class: 'grid-2' }, email.element, role.element), h('div', { class: 'form-actions' }, message.element, send));

  async function loadPending(): Promise<void> {
    let invites: InviteSummary[];
    try {
      invites = await everydayApi.invites(workspace);
    } catch (error) {
      mount(pending, h('p', { class: 'field-error' }, errorMessage(error)));
      return;
    }
    if (invites.length === 0) {
      mount(pending, h('p', { class: 'muted' }, 'No pending invites.'));
      return;
    }
    mount(
      pending,
      h(
        'ul',
        { class: 'invite-list' },
        invites.map((invite) => {
          const revoke = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Revoke the invite for ${invite.email}` }, 'Revoke');
          revoke.addEventListener('click', async () => {
            listMessage.show(null);
            try {
              await withBusy(revoke, 'Revoking…', () => everydayApi.revokeInvite(workspace, invite.id));
              listMessage.show(`The invite for ${invite.email} was revoked.`, 'success');
              await loadPending();
            } catch (error) {
              listMessage.show(errorMessage(error));
            }
          });
          return h(
            'li',
            { class: 'invite-item', dataset: { inviteEmail: invite.email } },
            h('span', { class: 'avatar', 'aria-hidden': 'true' }, invite.email.slice(0, 1).toUpperCase()),
            h(
              'span',
              { class: 'member-who' },
              h('span', { class: 'member-name' }, invite.email),
              h('span', { class: 'member-email' }, invite.status === 'expired' ? `Expired ${formatDate(invite.expiresAt)} — revoke it and invite again` : `Invited as ${invite.role} · until ${formatDate(invite.expiresAt)}`),
            ),
            invite.status === 'expired' ? h('span', { class: 'badge badge-warning' }, 'Expired') : h('span', { class: `badge badge-role role-${invite.role}` }, invite.role),
            revoke,
          );
        }),
      ),
    );
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = { email, role };
    clearFieldErrors(fields);
    message.show(null);
    if (!email.control.value.trim()) return email.setError('Enter their email address.');
    try {
      const invite = await withBusy(send, 'Inviting…', () => everydayApi.createInvite(workspace, { email: email.control.value.trim(), role: role.control.value }));
      email.control.value = '';
      const linkBox = h('code', { class: 'secret invite-link', dataset: { testid: 'invite-link' } }, invite.link);
      const copy = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, icon('copy', 16), 'Copy link');
      copy.addEventListener('click', () => void navigator.clipboard?.writeText(invite.link).then(() => (copy.lastChild!.textContent = 'Copied')).catch(() => undefined));
      mount(
        created,
        h(
          'div',
          { class: 'callout callout-info new-key' },
          h('p', { class: 'callout-title' }, invite.mailed ? `Invite mailed to ${invite.email}.` : `Send this link to ${invite.email}.`),
          h('p', { class: 'small' }, invite.mailed ? 'You can also share the link yourself. It works once.' : invite.mailConfigured ? 'The mail could not be sent; share the link yourself. It works once.' : 'No mail server is configured, so share it yourself. It works once and is shown only now.'),
          h('div', { class: 'copy-row' }, linkBox, copy),
        ),
      );
      await loadPending();
    } catch (error) {
      if (!showFieldError(error, fields)) email.setError(errorMessage(error));
    }
  });
  void loadPending();
  return h(
    'section',
    { class: 'card section' },
    h('h2', { class: 'section-title' }, 'Invite people'),
    form,
    created,
    h('h3', { class: 'subsection-title' }, 'Pending invites'),
    listMessage.element,
    pending,
  );
}
