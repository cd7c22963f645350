// Sign in and create account (#/login, #/signup), and the card every signed-out page shares.
import { api } from '../api';
import { h, icon } from '../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, showFieldError, withBusy } from '../forms';
import { navigate } from '../router';
import { loadSession, signIn } from '../session';

const REDIRECT_KEY = 'agentHost.afterLogin';

export function rememberRedirect(hash: string): void {
  if (hash && hash.startsWith('#/') && !hash.startsWith('#/login') && !hash.startsWith('#/signup') && !hash.startsWith('#/reset')) sessionStorage.setItem(REDIRECT_KEY, hash.slice(1));
}

function takeRedirect(): string {
  const target = sessionStorage.getItem(REDIRECT_KEY);
  sessionStorage.removeItem(REDIRECT_KEY);
  return target ?? '/dashboard';
}

export function renderAuth(container: HTMLElement, mode: 'login' | 'signup'): void {
  document.title = mode === 'login' ? 'Sign in · Agent Host' : 'Create account · Agent Host';
  const isSignup = mode === 'signup';
  const name = isSignup ? field('Your name', input({ name: 'name', autocomplete: 'name', maxLength: 100 }), { required: true }) : undefined;
  const email = field('Email', input({ type: 'email', name: 'email', autocomplete: 'email', maxLength: 254 }), { required: true });
  const password = field('Password', input({ type: 'password', name: 'password', autocomplete: isSignup ? 'new-password' : 'current-password', maxLength: 256 }), {
    required: true,
    hint: isSignup ? 'At least 8 characters.' : undefined,
  });
  const fields = { name, email, password };
  const message = formMessage();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, isSignup ? 'Create account' : 'Sign in');

  const form = h('form', { class: 'stack', novalidate: true }, name?.element, email.element, password.element, message.element, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(fields);
    message.show(null);
    if (name && !name.control.value.trim()) return (name.setError('Please enter your name.'), name.control.focus());
    if (!email.control.value.trim()) return (email.setError('Please enter your email address.'), email.control.focus());
    if (!password.control.value) return (password.setError('Please enter your password.'), password.control.focus());
    if (isSignup && password.control.value.length < 8) return (password.setError('Use at least 8 characters.'), password.control.focus());
    try {
      await withBusy(submit, isSignup ? 'Creating account…' : 'Signing in…', async () => {
        if (isSignup) {
          const result = await api.register({ name: name!.control.value.trim(), email: email.control.value.trim(), password: password.control.value });
          signIn(result.token, result.workspace.id);
        } else {
          const result = await api.login({ email: email.control.value.trim(), password: password.control.value });
          signIn(result.token);
        }
        await loadSession();
      });
      navigate(takeRedirect());
    } catch (error) {
      if (!showFieldError(error, fields)) message.show(errorMessage(error));
    }
  });

  container.replaceChildren(
    authPage(
      isSignup ? 'Create your account' : 'Welcome back',
      isSignup ? 'Set up AI agents for your team in a few minutes.' : 'Sign in to manage your agents and usage.',
      form,
      h(
        'p',
        { class: 'auth-switch' },
        isSignup ? ['Already have an account? ', h('a', { href: '#/login' }, 'Sign in')] : ['New to Agent Host? ', h('a', { href: '#/signup' }, 'Create an account')],
      ),
      isSignup ? null : h('p', { class: 'auth-switch muted' }, 'Forgot your password? Ask the person who runs your Agent Host for a reset link.'),
    ),
  );
  (name ?? email).control.focus();
}

/** The centred card of the signed-out pages (sign in, sign up, reset password). */
export function authPage(title: string, subtitle: string, ...content: Array<Node | null>): HTMLElement {
  return h(
    'main',
    { id: 'main', class: 'auth-page', tabindex: '-1' },
    h(
      'div',
      { class: 'auth-card card' },
      h('div', { class: 'auth-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('robot', 22)), h('span', { class: 'brand-name' }, 'Agent Host')),
      h('h1', { class: 'auth-title' }, title),
      h('p', { class: 'muted auth-subtitle' }, subtitle),
      ...content,
    ),
  );
}
