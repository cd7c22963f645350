// #/reset?token=…: sets a new password from a single-use link the operator issued (npm run user:reset-link).
import { api } from '../api';
import { h } from '../dom';
import { errorMessage, field, formMessage, input, showFieldError, withBusy } from '../forms';
import { navigate } from '../router';
import { loadSession, signIn, signOut } from '../session';
import { authPage } from './auth';

export function renderResetPassword(container: HTMLElement, token: string): void {
  document.title = 'Choose a new password · Agent Host';
  if (!token) {
    container.replaceChildren(
      authPage('Reset link incomplete', 'This address has no reset token. Open the whole link you were given, or ask for a new one.', h('p', { class: 'auth-switch' }, h('a', { href: '#/login' }, 'Back to sign in'))),
    );
    return;
  }
  const newPassword = field('New password', input({ type: 'password', name: 'newPassword', autocomplete: 'new-password', maxLength: 256 }), {
    required: true,
    hint: 'At least 8 characters. Every device signed in to this account will be signed out.',
  });
  const message = formMessage();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set new password');
  const form = h('form', { class: 'stack', novalidate: true }, newPassword.element, message.element, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    newPassword.setError(null);
    message.show(null);
    if (newPassword.control.value.length < 8) return (newPassword.setError('Use at least 8 characters.'), newPassword.control.focus());
    try {
      await withBusy(submit, 'Saving…', async () => {
        const result = await api.resetPassword({ token, newPassword: newPassword.control.value });
        signOut(); // whoever was signed in on this browser before
        signIn(result.token);
        await loadSession();
      });
      navigate('/dashboard');
    } catch (error) {
      if (!showFieldError(error, { newPassword })) message.show(errorMessage(error));
    }
  });
  container.replaceChildren(authPage('Choose a new password', 'Your reset link works once and expires 30 minutes after it was made.', form, h('p', { class: 'auth-switch' }, h('a', { href: '#/login' }, 'Back to sign in'))));
  newPassword.control.focus();
}
