// Sessions over real HTTP and Socket.IO: sign out, sign out everywhere, password change and reset each end exactly
// the tokens they should; a removed member's token and socket lose that workspace (and only that one).
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { closeAllClients, join as joinRoom, openClient, record, waitForConnect, waitForConnectError, type TestClient } from '../realtime/realtime-test-support';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { registerMember } from '../support/workspace-members';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import { createLogger } from '../../server/logger';
import { issueResetLink } from '../../scripts/user-reset-link';

const ROOT = path.resolve(__dirname, '..', '..');
const NEW_PASSWORD = 'a brand new passphrase';

async function login(url: string, email: string, password: string): Promise<string> {
  const response = await api(url, 'POST', '/api/auth/login', { body: { email, password } });
  expect(response.status, response.text).to.equal(200);
  return response.body.token;
}

const meStatus = async (url: string, token: string) => (await api(url, 'GET', '/api/auth/me', { token })).status;
const agentsStatus = async (url: string, token: string, workspaceId: string) => (await api(url, 'GET', `/api/workspaces/${workspaceId}/agents`, { token })).status;

async function connect(url: string, token: string): Promise<TestClient> {
  const socket = openClient(url, { token });
  await waitForConnect(socket);
  return socket;
}

const connectError = (url: string, token: string) => waitForConnectError(openClient(url, { token }));
const join = (socket: TestClient, workspaceId: string) => joinRoom(socket, { workspaceId });
const collect = <T = { id: string }>(socket: TestClient, event: string) => record<T>(socket, event);

async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A round trip on this socket: everything the server sent it before answering has arrived. */
const roundTrip = (socket: TestClient) => socket.timeout(5000).emitWithAck('workspace:leave', { workspaceId: 'round-trip' });

let alertCounter = 0;
function publishAlert(test: TestPlatform, workspaceId: string): string {
  alertCounter += 1;
  const id = `alert-${alertCounter}`;
  test.platform.realtime.publishAlert(workspaceId, { id, type: 'allowance_80', agentId: null, message: 'test', createdAt: new Date().toISOString() });
  return id;
}

describe('sessions (HTTP, Socket.IO)', function () {
  this.timeout(60_000);
  let test: TestPlatform;
  let url: string;
  const databaseName = uniqueDatabaseName('sessions');

  before(async () => {
    test = await startTestPlatform({ databaseName });
    url = test.url;
  });
  after(async () => {
    closeAllClients();
    await test?.stop();
  });
  afterEach(() => {
    closeAllClients();
  });

  describe('sign out', () => {
    it('ends this token only: the same account on another device and other accounts keep working', async () => {
      const user = await registerUser(url);
      const laptop = await login(url, user.email, user.password);
      const other = await registerUser(url);
      expect(await meStatus(url, laptop)).to.equal(200);

      const signOut = await api(url, 'POST', '/api/auth/sign-out', { token: laptop });
      expect(signOut.status).to.equal(204);
      expect(await meStatus(url, laptop)).to.equal(401);
      expect(await agentsStatus(url, laptop, user.workspace.id)).to.equal(401);
      expect((await api(url, 'POST', '/api/auth/sign-out', { token: laptop })).status).to.equal(401);

      expect(await meStatus(url, user.token)).to.equal(200);
      expect(await agentsStatus(url, user.token, user.workspace.id)).to.equal(200);
      expect(await meStatus(url, other.token)).to.equal(200);
      // Signing in again starts a new session.
      expect(await meStatus(url, await login(url, user.email, user.password))).to.equal(200);
    });

    it('answers 401 without a token', async () => {
      expect((await api(url, 'POST', '/api/auth/sign-out')).status).to.equal(401);
      expect((await api(url, 'POST', '/api/auth/sign-out-everywhere')).status).to.equal(401);
    });
  });

  describe('sign out everywhere', () => {
    it('ends every token of the account — a stolen one too — but not agent API keys or other accounts', async () => {
      const user = await registerUser(url);
      const stolen = await login(url, user.email, user.password);
      const phone = await login(url, user.email, user.password);
      const other = await registerUser(url);
      const agent = await createAgent(url, user);
      const agentKey = await createAgentApiKey(url, user, agent.id);
      expect(await agentsStatus(url, stolen, user.workspace.id)).to.equal(200);

      expect((await api(url, 'POST', '/api/auth/sign-out-everywhere', { token: phone })).status).to.equal(204);
      for (const token of [stolen, phone, user.token]) {
        expect(await meStatus(url, token)).to.equal(401);
        expect(await agentsStatus(url, token, user.workspace.id)).to.equal(401);
      }
      expect(await test.platform.models.Session.countDocuments({ userId: user.user.id })).to.equal(0);
      expect(await meStatus(url, other.token)).to.equal(200);
      // /v1 authenticates with the agent's ak_ key, which is no sign-in session.
      const completion = await api(url, 'POST', '/v1/chat/completions', { token: agentKey, body: { model: agent.id, messages: [{ role: 'user', content: 'hi' }] } });
      expect(completion.status, completion.text).to.equal(200);
      // The password still signs in.
      expect(await meStatus(url, await login(url, user.email, user.password))).to.equal(200);
    });
  });

  describe('change password', () => {
    it('needs the current password and a new one of at least 8 characters; a refusal ends nothing', async () => {
      const user = await registerUser(url);
      const wrong = await api(url, 'POST', '/api/auth/password', { token: user.token, body: { currentPassword: 'not the password', newPassword: NEW_PASSWORD } });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error.code).to.equal('CURRENT_PASSWORD_INCORRECT');
      const short = await api(url, 'POST', '/api/auth/password', { token: user.token, body: { currentPassword: user.password, newPassword: '1234567' } });
      expect(short.status).to.equal(400);
      expect(short.body.error.code).to.equal('VALIDATION_FAILED');
      expect(short.body.error.details.issues[0].field).to.equal('newPassword');
      const extra = await api(url, 'POST', '/api/auth/password', { token: user.token, body: { currentPassword: user.password, newPassword: NEW_PASSWORD, userId: user.user.id } });
      expect(extra.status).to.equal(400);
      expect((await api(url, 'POST', '/api/auth/password', { body: { currentPassword: user.password, newPassword: NEW_PASSWORD } })).status).to.equal(401);
      expect(await meStatus(url, user.token)).to.equal(200);
      expect(await meStatus(url, await login(url, user.email, user.password))).to.equal(200);
    });

    it('ends every session, this one too, and answers with a new token for this device', async () => {
      const user = await registerUser(url);
      const elsewhere = await login(url, user.email, user.password);
      const changed = await api(url, 'POST', '/api/auth/password', { token: user.token, body: { currentPassword: user.password, newPassword: NEW_PASSWORD } });
      expect(changed.status, changed.text).to.equal(200);
      expect(changed.body.user).to.deep.equal(user.user);
      expect(changed.text).not.to.include(NEW_PASSWORD);
      expect(await meStatus(url, user.token)).to.equal(401);
      expect(await meStatus(url, elsewhere)).to.equal(401);
      expect(await meStatus(url, changed.body.token)).to.equal(200);

      expect((await api(url, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } })).status).to.equal(401);
      expect(await meStatus(url, await login(url, user.email, NEW_PASSWORD))).to.equal(200);
    });
  });

  describe('password reset link (operator CLI)', () => {
    const tokenOf = (link: string) => new URL(link.replace('/#/', '/')).searchParams.get('token')!;
    const issue = (email: string, lifetimeMs?: number) =>
      issueResetLink(test.platform.config, createLogger({ level: 'silent' }), { email, databaseName, baseUrl: 'https://agents.example.com/', lifetimeMs });

    it('is single use: sets the password, signs out everywhere, signs this device in; a second use is refused', async () => {
      const user = await registerUser(url);
      const elsewhere = await login(url, user.email, user.password);
      const { link, expiresAt } = await issue(user.email.toUpperCase());
      expect(link).to.match(/^https:\/\/agents\.example\.com\/#\/reset\?token=[A-Za-z0-9_-]{43}$/);
      expect(expiresAt.getTime() - Date.now()).to.be.within(29 * 60_000, 30 * 60_000);
      const token = tokenOf(link);
      // Only a hash is stored.
      const stored = await test.platform.models.PasswordReset.find({ userId: user.user.id }).lean();
      expect(stored).to.have.length(1);
      expect(JSON.stringify(stored)).not.to.include(token);

      const short = await api(url, 'POST', '/api/auth/reset', { body: { token, newPassword: 'short' } });
      expect(short.status).to.equal(400);
      expect(short.body.error.code).to.equal('VALIDATION_FAILED');

      const reset = await api(url, 'POST', '/api/auth/reset', { body: { token, newPassword: NEW_PASSWORD } });
      expect(reset.status, reset.text).to.equal(200);
      expect(reset.body.user).to.deep.equal(user.user);
      expect(await meStatus(url, reset.body.token)).to.equal(200);
      expect(await meStatus(url, user.token)).to.equal(401);
      expect(await meStatus(url, elsewhere)).to.equal(401);
      expect((await api(url, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } })).status).to.equal(401);
      expect(await meStatus(url, await login(url, user.email, NEW_PASSWORD))).to.equal(200);

      const again = await api(url, 'POST', '/api/auth/reset', { body: { token, newPassword: 'yet another passphrase' } });
      expect(again.status).to.equal(400);
      expect(again.body.error.code).to.equal('RESET_LINK_INVALID');
      expect(await meStatus(url, await login(url, user.email, NEW_PASSWORD))).to.equal(200);
    });

    it('lets exactly one of two racing redemptions win', async () => {
      const user = await registerUser(url);
      const token = tokenOf((await issue(user.email)).link);
      const results = await Promise.all(['racing passphrase one', 'racing passphrase two'].map((newPassword) => api(url, 'POST', '/api/auth/reset', { body: { token, newPassword } })));
      expect(results.map((result) => result.status).sort()).to.deep.equal([200, 400]);
    });

    it('refuses an expired link, an unknown token, and a link replaced by a newer one', async () => {
      const user = await registerUser(url);
      const shortLived = await issue(user.email, 1);
      const expired = tokenOf(shortLived.link);
      await waitFor(() => Date.now() > shortLived.expiresAt.getTime(), 'the link to expire');
      const expiredAnswer = await api(url, 'POST', '/api/auth/reset', { body: { token: expired, newPassword: NEW_PASSWORD } });
      expect(expiredAnswer.status).to.equal(400);
      expect(expiredAnswer.body.error.code).to.equal('RESET_LINK_INVALID');

      const unknown = await api(url, 'POST', '/api/auth/reset', { body: { token: 'x'.repeat(43), newPassword: NEW_PASSWORD } });
      expect(unknown.body.error.code).to.equal('RESET_LINK_INVALID');

      const first = tokenOf((await issue(user.email)).link);
      const second = tokenOf((await issue(user.email)).link);
      expect((await api(url, 'POST', '/api/auth/reset', { body: { token: first, newPassword: NEW_PASSWORD } })).body.error.code).to.equal('RESET_LINK_INVALID');
      expect((await api(url, 'POST', '/api/auth/reset', { body: { token: second, newPassword: NEW_PASSWORD } })).status).to.equal(200);
      // None of it signed the user out before the one good redemption... which then did.
      expect(await meStatus(url, user.token)).to.equal(401);
    });

    it('runs as `npm run user:reset-link -- --email …`: the link on stdout, a clear error for an unknown email', async function () {
      this.timeout(90_000);
      const user = await registerUser(url);
      const env = { ...process.env, NODE_ENV: 'test', MONGODB_URI: await getTestMongoUri(), JWT_SECRET: test.platform.config.jwtSecret, DATA_DIR: os.tmpdir(), VAULT_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };
      const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'user-reset-link.ts'), ...args, '--database', databaseName], { cwd: ROOT, env });
      const { stdout } = await run(['--email', user.email, '--base-url', 'http://localhost:4000']);
      const link = stdout.trim();
      expect(link).to.match(/^http:\/\/localhost:4000\/#\/reset\?token=/);
      expect((await api(url, 'POST', '/api/auth/reset', { body: { token: tokenOf(link), newPassword: NEW_PASSWORD } })).status).to.equal(200);

      const failure = await run(['--email', 'nobody@example.com']).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).to.equal(1);
      expect(failure?.stderr).to.include('no account with this email');
    });
  });

  describe('removed members', () => {
    it('lose that workspace on the next request, and keep their own', async () => {
      const owner = await registerUser(url);
      const member = await registerMember(url, owner, 'builder');
      expect(await agentsStatus(url, member.token, owner.workspace.id)).to.equal(200);
      expect((await api(url, 'DELETE', `/api/workspaces/${owner.workspace.id}/members/${member.user.id}`, { token: owner.token })).status).to.equal(204);
      expect(await agentsStatus(url, member.token, owner.workspace.id)).to.equal(404);
      expect((await api(url, 'GET', `/api/workspaces/${owner.workspace.id}/usage`, { token: member.token })).status).to.equal(404);
      const own = (await api(url, 'GET', '/api/auth/me', { token: member.token })).body.workspaces.map((workspace: { id: string }) => workspace.id);
      expect(own).not.to.include(owner.workspace.id);
      expect(await agentsStatus(url, member.token, own[0])).to.equal(200);
    });

    it("stop receiving the workspace's events on their open socket; other members and workspaces are unaffected", async () => {
      const owner = await registerUser(url);
      const member = await registerMember(url, owner, 'viewer');
      const memberOwnWorkspace = (await api(url, 'GET', '/api/workspaces', { token: member.token })).body.find((workspace: { role: string }) => workspace.role === 'owner').id;
      const ownerSocket = await connect(url, owner.token);
      const memberSocket = await connect(url, member.token);
      expect(await join(ownerSocket, owner.workspace.id)).to.deep.equal({ ok: true });
      expect(await join(memberSocket, owner.workspace.id)).to.deep.equal({ ok: true });
      expect(await join(memberSocket, memberOwnWorkspace)).to.deep.equal({ ok: true });
      const ownerAlerts = collect(ownerSocket, 'alert');
      const memberAlerts = collect(memberSocket, 'alert');

      const before = publishAlert(test, owner.workspace.id);
      await waitFor(() => memberAlerts.some((alert) => alert.id === before), 'the member to receive the first alert');

      expect((await api(url, 'DELETE', `/api/workspaces/${owner.workspace.id}/members/${member.user.id}`, { token: owner.token })).status).to.equal(204);
      const after = publishAlert(test, owner.workspace.id);
      const ownWorkspaceAlert = publishAlert(test, memberOwnWorkspace);
      await waitFor(() => ownerAlerts.some((alert) => alert.id === after), 'the owner to receive the second alert');
      await waitFor(() => memberAlerts.some((alert) => alert.id === ownWorkspaceAlert), "the member's own workspace alert");
      await roundTrip(memberSocket);
      expect(memberAlerts.map((alert) => alert.id)).to.deep.equal([before, ownWorkspaceAlert]);
      expect(memberSocket.connected).to.equal(true);
      // And joining again is refused.
      expect(await join(memberSocket, owner.workspace.id)).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND' } });
    });

    it('all leave the room when the workspace is deleted', async () => {
      const owner = await registerUser(url);
      const workspace = (await api(url, 'POST', '/api/workspaces', { token: owner.token, body: { name: 'Short-lived' } })).body;
      const socket = await connect(url, owner.token);
      expect(await join(socket, workspace.id)).to.deep.equal({ ok: true });
      const alerts = collect(socket, 'alert');
      expect((await api(url, 'DELETE', `/api/workspaces/${workspace.id}`, { token: owner.token })).status).to.equal(204);
      publishAlert(test, workspace.id);
      expect(await join(socket, owner.workspace.id)).to.deep.equal({ ok: true });
      const control = publishAlert(test, owner.workspace.id);
      await waitFor(() => alerts.some((alert) => alert.id === control), 'the alert of the remaining workspace');
      expect(alerts.map((alert) => alert.id)).to.deep.equal([control]);
    });
  });

  describe('sockets of ended sessions', () => {
    it('sign out disconnects that session\'s socket (session:expired SESSION_ENDED) and its token cannot connect again', async () => {
      const user = await registerUser(url);
      const laptop = await login(url, user.email, user.password);
      const laptopSocket = await connect(url, laptop);
      const otherSocket = await connect(url, user.token);
      expect(await join(laptopSocket, user.workspace.id)).to.deep.equal({ ok: true });
      const expired = collect<{ code: string }>(laptopSocket, 'session:expired');

      expect((await api(url, 'POST', '/api/auth/sign-out', { token: laptop })).status).to.equal(204);
      await waitFor(() => laptopSocket.disconnected, 'the signed-out socket to be disconnected');
      expect(expired).to.deep.equal([{ code: 'SESSION_ENDED' }]);
      await roundTrip(otherSocket);
      expect(otherSocket.connected).to.equal(true);
      expect((await connectError(url, laptop)).message).to.equal('UNAUTHORIZED');
    });

    it('sign out everywhere disconnects every socket of the account', async () => {
      const user = await registerUser(url);
      const other = await registerUser(url);
      const first = await connect(url, user.token);
      const second = await connect(url, await login(url, user.email, user.password));
      const bystander = await connect(url, other.token);
      expect((await api(url, 'POST', '/api/auth/sign-out-everywhere', { token: user.token })).status).to.equal(204);
      await waitFor(() => first.disconnected && second.disconnected, 'both sockets to be disconnected');
      await roundTrip(bystander);
      expect(bystander.connected).to.equal(true);
      expect((await connectError(url, user.token)).message).to.equal('UNAUTHORIZED');
    });
  });
});

describe('sessions: attempt limits', function () {
  this.timeout(60_000);
  let test: TestPlatform;
  let user: TestUser;

  before(async () => {
    test = await startTestPlatform({ authRateLimits: { loginFailuresPerWindow: 3 } });
    user = await registerUser(test.url);
  });
  after(async () => test?.stop());

  it('limits wrong current passwords per account (429 TOO_MANY_ATTEMPTS)', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push((await api(test.url, 'POST', '/api/auth/password', { token: user.token, body: { currentPassword: 'wrong password', newPassword: NEW_PASSWORD } })).status);
    }
    expect(statuses).to.deep.equal([400, 400, 400, 429]);
    const limited = await api(test.url, 'POST', '/api/auth/password', { token: user.token, body: { currentPassword: user.password, newPassword: NEW_PASSWORD } });
    expect(limited.body.error.code).to.equal('TOO_MANY_ATTEMPTS');
  });

  it('limits failed reset redemptions per address (429 TOO_MANY_ATTEMPTS)', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push((await api(test.url, 'POST', '/api/auth/reset', { body: { token: `guess-${attempt}`, newPassword: NEW_PASSWORD } })).status);
    }
    expect(statuses).to.deep.equal([400, 400, 400, 429]);
  });
});
