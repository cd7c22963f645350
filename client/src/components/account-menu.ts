// The account menu in the top bar: who is signed in, change password, sign out here, sign out of all devices.
import { api } from '../api';
import { h, icon } from '../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, showFieldError, withBusy } from '../forms';
import { navigate } from '../router';
import { connectRealtime, disconnectRealtime } from '../realtime';
import { session, signIn, signOut } from '../session';
import { attachPopover } from './popover';
import { formDialog } from './form-dialog';

export function accountMenu(): { element: HTMLElement; dispose(): void } {
  const me = session.me!;
  const button = h(
    'button',
    { type: 'button', class: 'icon-button account-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': 'Account', title: `Signed in as ${me.user.email}` },
    h('span', { class: 'account-initial', 'aria-hidden': 'true' }, (me.user.name.trim()[0] ?? me.user.email[0] ?? '?').toUpperCase()),
  );
  const item = (label: string, iconName: 'key' | 'logout', action: () => void) => {
    const menuItem = h('button', { type: 'button', class: 'menu-item', role: 'menuitem' }, icon(iconName, 16), h('span', null, label));
    menuItem.addEventListener('click', () => {
      popover.close();
      action();
    });
    return menuItem;
  };
  const panel = h(
    'div',
    { class: 'popover account-panel', hidden: true },
    h('div', { class: 'account-identity' }, h('p', { class: 'account-name' }, me.user.name), h('p', { class: 'account-email muted' }, me.user.email)),
    h(
      'div',
      { class: 'menu', role: 'menu', 'aria-label': 'Account' },
      item('Change password', 'key', openChangePasswordDialog),
      item('Sign out', 'logout', () => void signOutHere()),
      item('Sign out of all devices', 'logout', () => void signOutEverywhere()),
    ),
  );
  const element = h('div', { class: 'account-wrap' }, button, panel);
  const popover = attachPopover(element, button, panel);
  return { element, dispose: () => popover.close() };
}

function leaveToLogin(): void {
  disconnectRealtime();
  signOut();
  navigate('/login');
}

async function signOutHere(): Promise<void> {
  try {
    await api.signOut();
  } catch {
    // Signed out here either way: the token is forgotten below, and it ends with its expiry at the latest.
  }
  leaveToLogin();
}

async function signOutEverywhere(): Promise<void> {
  if (!window.confirm('Sign out of Agent Host on every device, this one included?')) return;
  try {
    await api.signOutEverywhere();
  } catch (error) {
    window.alert(errorMessage(error));
    return;
  }
  leaveToLogin();
}

function openChangePasswordDialog(): void {
  const currentPassword = field('Current password', input({ type: 'password', name: 'currentPassword', autocomplete: 'current-password', maxLength: 256 }), { required: true });
  const newPassword = field('New password', input({ type: 'password', name: 'newPassword', autocomplete: 'new-password', maxLength: 256 }), { required: true, hint: 'At least 8 characters. Your other devices will be signed out.' });
  const fields = { currentPassword, newPassword };
  const message = formMessage();
  const { dialog, form, submit: save } = formDialog('Change password', 'Change password', currentPassword.element, newPassword.element, message.element);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(fields);
    message.show(null);
    if (!currentPassword.control.value) return (currentPassword.setError('Please enter your current password.'), currentPassword.control.focus());
    if (newPassword.control.value.length < 8) return (newPassword.setError('Use at least 8 characters.'), newPassword.control.focus());
    // The change ends every session, this tab's live connection included: it reconnects with the new token.
    const workspaceId = session.workspace?.id;
    disconnectRealtime();
    try {
      const result = await withBusy(save, 'Changing…', () => api.changePassword({ currentPassword: currentPassword.control.value, newPassword: newPassword.control.value }));
      signIn(result.token);
      mountDone(form, () => dialog.close());
    } catch (error) {
      if (!showFieldError(error, fields)) message.show(errorMessage(error));
    } finally {
      if (workspaceId) connectRealtime(workspaceId);
    }
  });
  dialog.showModal();
  currentPassword.control.focus();
}

function mountDone(form: HTMLFormElement, close: () => void): void {
  const done = h('button', { type: 'button', class: 'btn btn-primary' }, 'Done');
  done.addEventListener('click', close);
  form.replaceChildren(
    h('h2', { class: 'dialog-title' }, 'Password changed'),
    h('p', { class: 'form-message form-message-success', role: 'status' }, 'Your password is changed. Every other device is signed out; this one stays signed in.'),
    h('div', { class: 'row-end' }, done),
  );
  done.focus();
}
