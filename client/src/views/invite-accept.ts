// #/invite?token=…: what the invite is for, then accept (signed in with the invited address) or sign in / sign up first.
import { h, mount } from '../dom';
import { everydayApi } from '../everyday-api';
import type { InvitePreview } from '../../../shared/invite-answers';
import { errorMessage, formMessage, withBusy } from '../forms';
import { formatDate } from '../format';
import { navigate } from '../router';
import { isSignedIn, loadSession, selectWorkspace, session } from '../session';
import { rememberRedirect } from './auth';

export async function renderInviteAccept(app: HTMLElement, token: string): Promise<void> {
  document.title = 'Invite · Agent Host';
  const card = h('div', { class: 'card auth-card stack' }, h('p', { class: 'muted' }, 'Loading the invite…'));
  mount(app, h('main', { class: 'auth-page', id: 'main' }, card));
  let preview: InvitePreview;
  try {
    preview = await everydayApi.previewInvite(token);
  } catch (error) {
    mount(card, h('h1', { class: 'auth-title' }, 'This invite cannot be used'), h('p', { role: 'alert' }, errorMessage(error)), h('a', { class: 'btn btn-secondary', href: '#/dashboard' }, 'Go to Agent Host'));
    return;
  }
  const message = formMessage();
  const heading = h('h1', { class: 'auth-title' }, `Join ${preview.workspaceName}`);
  const intro = h('p', null, `${preview.invitedBy ?? 'Someone'} invited ${preview.email} as ${preview.role}. The link works once, until ${formatDate(preview.expiresAt)}.`);
  if (session.me === null && isSignedIn()) await loadSession().catch(() => undefined);
  const signedInAs = session.me?.user.email ?? null;

  if (!signedInAs) {
    const goTo = (path: string) => {
      rememberRedirect(`#/invite?token=${encodeURIComponent(token)}`);
      navigate(path);
    };
    mount(
      card,
      heading,
      intro,
      h('p', { class: 'muted' }, preview.hasAccount ? `Sign in as ${preview.email} to accept.` : `Create an account with ${preview.email} to accept.`),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: `btn ${preview.hasAccount ? 'btn-primary' : 'btn-secondary'}`, onClick: () => goTo('/login') }, 'Sign in'),
        h('button', { type: 'button', class: `btn ${preview.hasAccount ? 'btn-secondary' : 'btn-primary'}`, onClick: () => goTo('/signup') }, 'Create account'),
      ),
    );
    return;
  }
  const accept = h('button', { type: 'button', class: 'btn btn-primary' }, 'Accept invite');
  accept.addEventListener('click', async () => {
    message.show(null);
    try {
      const result = await withBusy(accept, 'Joining…', () => everydayApi.acceptInvite(token));
      await loadSession();
      selectWorkspace(result.workspace.id);
      navigate('/dashboard');
    } catch (error) {
      message.show(errorMessage(error));
    }
  });
  mount(
    card,
    heading,
    intro,
    signedInAs === preview.email ? null : h('p', { class: 'callout callout-warning' }, `You are signed in as ${signedInAs}. This invite is for ${preview.email}: sign out and sign in with that address.`),
    message.element,
    h('div', { class: 'row' }, accept, h('a', { class: 'btn btn-secondary', href: '#/dashboard' }, 'Not now')),
  );
}
