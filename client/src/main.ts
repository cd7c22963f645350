// Entry: routes the hash to a screen, keeps the session, the shell and the live connection in step.
import './styles/index.css';
import { setUnauthorizedHandler } from './api';
import { api } from './api';
import { h, mount } from './dom';
import { renderShell, type Shell } from './components/shell';
import { connectRealtime, disconnectRealtime, setSessionEndedHandler } from './realtime';
import { navigate, parseRoute } from './router';
import { isSignedIn, loadSession, session, signOut } from './session';
import { renderAuth, rememberRedirect } from './views/auth';
import { renderResetPassword } from './views/reset-password';
import { renderAgent } from './views/agent/agent-page';
import { pageHeader } from './views/common';
import { renderDashboard } from './views/dashboard';
import { renderMembers } from './views/members';
import { renderNewAgent } from './views/new-agent';
import { renderAlertSettings } from './views/alert-settings';
import { renderActivity } from './views/activity';
import { renderUsageOverview } from './views/usage-overview';
import { renderModelCatalog } from './views/model-catalog';
import { renderInviteAccept } from './views/invite-accept';
import { renderStatement, renderStatements } from './views/statements';

const app = document.getElementById('app')!;
let cleanup: (() => void) | void = undefined;
let shell: Shell | null = null;
let renderToken = 0;
let firstRender = true;

// A 401, or the live connection saying the session ended (signed out on another device): back to the sign-in page.
function endSession(): void {
  if (!isSignedIn()) return;
  rememberRedirect(location.hash);
  signOut();
  disconnectRealtime();
  navigate('/login');
}
setUnauthorizedHandler(endSession);
setSessionEndedHandler(endSession);

async function render(): Promise<void> {
  const token = ++renderToken;
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  shell?.dispose();
  shell = null;
  const route = parseRoute(location.hash);

  if (route.name === 'reset') {
    // Open signed in or not: redeeming the link signs every device out and this one in.
    disconnectRealtime();
    renderResetPassword(app, route.params.token ?? '');
    return;
  }
  if (route.name === 'invite') {
    // Open signed in or not: the page says what the invite is for and how to accept it.
    await renderInviteAccept(app, route.params.token ?? '');
    return;
  }
  if (route.name === 'login' || route.name === 'signup') {
    if (isSignedIn()) return navigate('/dashboard');
    disconnectRealtime();
    renderAuth(app, route.name);
    return;
  }
  if (!isSignedIn()) {
    rememberRedirect(location.hash);
    return navigate('/login');
  }
  if (!session.me) {
    mount(app, h('div', { class: 'boot' }, h('p', { class: 'muted' }, 'Loading…')));
    try {
      await loadSession();
    } catch {
      if (!isSignedIn()) return; // the 401 handler already moved us to the login page
      mount(app, h('main', { class: 'auth-page' }, h('div', { class: 'card auth-card' }, h('p', null, 'Could not reach Agent Host. Check your connection and reload the page.'))));
      return;
    }
    if (token !== renderToken) return;
  }
  if (!session.workspace) {
    mount(app, h('main', { class: 'auth-page' }, h('div', { class: 'card auth-card' }, h('p', null, 'You are not a member of any workspace yet.'))));
    return;
  }

  connectRealtime(session.workspace.id);
  shell = renderShell(route);
  mount(app, shell.element);
  const currentShell = shell;
  api
    .agents(session.workspace.id)
    .then((agents) => currentShell.setSandbox(agents.some((agent) => agent.sandbox)))
    .catch(() => undefined);

  const main = shell.main;
  switch (route.name) {
    case 'dashboard':
      cleanup = await renderDashboard(main);
      break;
    case 'new-agent':
      await renderNewAgent(main);
      break;
    case 'agent':
      cleanup = await renderAgent(main, route);
      break;
    case 'members':
      await renderMembers(main);
      break;
    case 'alerts':
      await renderAlertSettings(main);
      break;
    case 'activity':
      await renderActivity(main);
      break;
    case 'usage':
      cleanup = await renderUsageOverview(main);
      break;
    case 'models':
      await renderModelCatalog(main);
      break;
    case 'statements':
      await renderStatements(main);
      break;
    case 'statement':
      await renderStatement(main, route.params.month ?? '');
      break;
    default:
      document.title = 'Not found · Agent Host';
      mount(main, pageHeader('Page not found'), h('div', { class: 'card empty' }, h('p', null, 'There is nothing at this address.'), h('a', { class: 'btn btn-primary', href: '#/dashboard' }, 'Go to the dashboard')));
  }
  if (token !== renderToken) {
    if (typeof cleanup === 'function') cleanup();
    cleanup = undefined;
    return;
  }
  // Move focus to the new screen for keyboard and screen-reader users (not on the very first load).
  if (!firstRender) main.querySelector<HTMLElement>('h1')?.setAttribute('tabindex', '-1');
  if (!firstRender) main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  firstRender = false;
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', () => {
  if (!location.hash.startsWith('#/') && location.hash !== '') return;
  void render();
});

document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  const main = document.getElementById('main');
  main?.focus();
  main?.scrollIntoView();
});

void render();
