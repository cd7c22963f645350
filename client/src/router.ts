// Hash routing (#/login, #/reset?token=, #/dashboard, #/agents/new, #/agents/:id, #/members), so deep links work with a static server.
export interface Route {
  name: 'login' | 'signup' | 'reset' | 'dashboard' | 'new-agent' | 'agent' | 'members' | 'not-found' | 'activity' | 'usage' | 'models' | 'invite' | 'statements' | 'statement' | 'alerts';
  params: Record<string, string>;
}

export function parseRoute(hash: string): Route {
  const [rawPath, rawQuery] = hash.replace(/^#/, '').split('?');
  const path = rawPath || '/';
  const query = Object.fromEntries(new URLSearchParams(rawQuery ?? ''));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: 'dashboard', params: {} };
  if (parts[0] === 'login' && parts.length === 1) return { name: 'login', params: {} };
  if (parts[0] === 'signup' && parts.length === 1) return { name: 'signup', params: {} };
  if (parts[0] === 'reset' && parts.length === 1) return { name: 'reset', params: { token: query.token ?? '' } };
  if (parts[0] === 'dashboard' && parts.length === 1) return { name: 'dashboard', params: {} };
  if (parts[0] === 'members' && parts.length === 1) return { name: 'members', params: {} };
  if (parts[0] === 'alerts' && parts.length === 1) return { name: 'alerts', params: {} };
  // Everyday screens (activity log, usage views, model catalog, invite links)
  if (parts.length === 1 && (parts[0] === 'activity' || parts[0] === 'usage' || parts[0] === 'models')) return { name: parts[0], params: {} };
  if (parts[0] === 'invite' && parts.length === 1) return { name: 'invite', params: { token: query.token ?? '' } };
  if (parts[0] === 'statements' && parts.length === 1) return { name: 'statements', params: {} };
  if (parts[0] === 'statements' && parts.length === 2) return { name: 'statement', params: { month: parts[1]! } };
  if (parts[0] === 'agents' && parts[1] === 'new' && parts.length === 2) return { name: 'new-agent', params: {} };
  if (parts[0] === 'agents' && parts.length === 2) return { name: 'agent', params: { ...query, agentId: parts[1]! } };
  return { name: 'not-found', params: {} };
}

export function navigate(path: string): void {
  const target = `#${path}`;
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = target;
}
