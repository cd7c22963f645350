// Invites: pending list with a role, a single-use link shown to the inviter (and mailed when SMTP is configured),
// accept, revoke, expiry, reuse refused, another workspace's invite 404, the invited address only.
import { expect } from 'chai';
import { api, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';

const tokenOf = (link: string) => new URL(link.replace('/#/', '/')).searchParams.get('token')!;

async function registerWithEmail(baseUrl: string, email: string, name = 'Invited Person'): Promise<TestUser> {
  const password = 'correct horse battery staple';
  const response = await api(baseUrl, 'POST', '/api/auth/register', { body: { email, password, name } });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return { ...response.body, email, password };
}

describe('workspace invites', function () {
  this.timeout(90_000);
  let platform: TestPlatform;
  let smtp: SmtpSink;
  let owner: TestUser;
  let other: TestUser;
  let counter = 0;
  const freshEmail = () => `invitee${++counter}-${Date.now()}@example.com`;

  before(async () => {
    smtp = await startSmtpSink();
    platform = await startTestPlatform({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Agent Host <hello@example.com>', PUBLIC_URL: 'https://agents.example.com' } });
    owner = await registerUser(platform.url, 'Olga Owner');
    other = await registerUser(platform.url, 'Other Owner');
  });
  after(async () => {
    await platform?.stop();
    await smtp?.close();
  });

  const invite = (user: TestUser, body: Record<string, unknown>) => api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/invites`, { token: user.token, body });

  it('invites by email into a pending list, mails the link, and the invitee accepts it once', async () => {
    const email = freshEmail();
    const created = await invite(owner, { email, role: 'builder' });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ email, role: 'builder', mailed: true, mailConfigured: true });
    expect(created.body.link).to.match(new RegExp(`^${platform.url}/#/invite\\?token=`));
    const mail = smtp.mails.find((candidate) => candidate.to.some((to) => to.includes(email)))!;
    expect(mail, 'a mail to the invitee').to.not.equal(undefined);
    // The body is quoted-printable: soft line breaks and =XX escapes undone.
    const body = mail.data.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    expect(body).to.contain(`https://agents.example.com/#/invite?token=${tokenOf(created.body.link)}`);
    expect(body).to.contain("Olga Owner's workspace");

    const pending = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/invites`, { token: owner.token });
    expect(pending.body.map((entry: { email: string }) => entry.email)).to.include(email);
    expect(JSON.stringify(pending.body)).to.not.contain(tokenOf(created.body.link));

    const token = tokenOf(created.body.link);
    const preview = await api(platform.url, 'POST', '/api/invites/preview', { body: { token } });
    expect(preview.body).to.include({ email, role: 'builder', workspaceName: "Olga Owner's workspace", hasAccount: false });

    const invitee = await registerWithEmail(platform.url, email);
    const accepted = await api(platform.url, 'POST', '/api/invites/accept', { token: invitee.token, body: { token } });
    expect(accepted.status).to.equal(200);
    expect(accepted.body.workspace).to.deep.equal({ id: owner.workspace.id, name: "Olga Owner's workspace", role: 'builder' });
    const members = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/members`, { token: owner.token });
    expect(members.body.find((member: { email: string }) => member.email === email).role).to.equal('builder');

    // Single use: the same link again, by anyone, is refused; it leaves the pending list.
    const again = await api(platform.url, 'POST', '/api/invites/accept', { token: invitee.token, body: { token } });
    expect(again.status).to.equal(410);
    expect(again.body.error.code).to.equal('INVITE_INVALID');
    expect((await api(platform.url, 'POST', '/api/invites/preview', { body: { token } })).status).to.equal(410);
    const after = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/invites`, { token: owner.token });
    expect(after.body.map((entry: { email: string }) => entry.email)).to.not.include(email);
  });

  it('two accepts of one link at the same moment: exactly one wins', async () => {
    const email = freshEmail();
    const created = await invite(owner, { email, role: 'viewer' });
    const invitee = await registerWithEmail(platform.url, email);
    const token = tokenOf(created.body.link);
    const results = await Promise.all([0, 1, 2].map(() => api(platform.url, 'POST', '/api/invites/accept', { token: invitee.token, body: { token } })));
    expect(results.filter((result) => result.status === 200)).to.have.length(1);
    expect(results.filter((result) => result.status !== 200).every((result) => ['INVITE_INVALID', 'ALREADY_MEMBER'].includes(result.body.error.code))).to.equal(true);
  });

  it('a revoked invite cannot be accepted; revoking through another workspace is a 404', async () => {
    const email = freshEmail();
    const created = await invite(owner, { email, role: 'viewer' });
    const foreign = await api(platform.url, 'DELETE', `/api/workspaces/${other.workspace.id}/invites/${created.body.id}`, { token: other.token });
    expect(foreign.status).to.equal(404);
    const notMember = await api(platform.url, 'DELETE', `/api/workspaces/${owner.workspace.id}/invites/${created.body.id}`, { token: other.token });
    expect(notMember.status).to.equal(404);
    const revoked = await api(platform.url, 'DELETE', `/api/workspaces/${owner.workspace.id}/invites/${created.body.id}`, { token: owner.token });
    expect(revoked.status).to.equal(204);
    expect((await api(platform.url, 'DELETE', `/api/workspaces/${owner.workspace.id}/invites/${created.body.id}`, { token: owner.token })).status).to.equal(404);
    const invitee = await registerWithEmail(platform.url, email);
    const accepted = await api(platform.url, 'POST', '/api/invites/accept', { token: invitee.token, body: { token: tokenOf(created.body.link) } });
    expect(accepted.status).to.equal(410);
    expect((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/members`, { token: owner.token })).body.map((member: { email: string }) => member.email)).to.not.include(email);
  });

  it('an expired invite cannot be accepted, shows as expired, and frees the address for a new invite', async () => {
    const email = freshEmail();
    const created = await invite(owner, { email, role: 'viewer' });
    expect(new Date(created.body.expiresAt).getTime() - Date.now()).to.be.closeTo(7 * 86_400_000, 60_000);
    const duplicate = await invite(owner, { email, role: 'admin' });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.error.code).to.equal('INVITE_PENDING');
    // The clock moves past the expiry (the stored expiry is set back; the check is the server's own).
    const { Types } = await import('mongoose');
    await platform.platform.models.Invite.collection.updateOne({ _id: new Types.ObjectId(created.body.id) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const listed = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/invites`, { token: owner.token });
    expect(listed.body.find((entry: { id: string }) => entry.id === created.body.id).status).to.equal('expired');
    const invitee = await registerWithEmail(platform.url, email);
    const accepted = await api(platform.url, 'POST', '/api/invites/accept', { token: invitee.token, body: { token: tokenOf(created.body.link) } });
    expect(accepted.status).to.equal(410);
    expect(accepted.body.error.code).to.equal('INVITE_INVALID');
    const renewed = await invite(owner, { email, role: 'viewer' });
    expect(renewed.status).to.equal(201);
    const ok = await api(platform.url, 'POST', '/api/invites/accept', { token: invitee.token, body: { token: tokenOf(renewed.body.link) } });
    expect(ok.status).to.equal(200);
  });

  it('only the invited address may accept; roles and membership rules hold', async () => {
    const email = freshEmail();
    const created = await invite(owner, { email, role: 'admin' });
    const stranger = await registerUser(platform.url, 'Stranger');
    const wrong = await api(platform.url, 'POST', '/api/invites/accept', { token: stranger.token, body: { token: tokenOf(created.body.link) } });
    expect(wrong.status).to.equal(403);
    expect(wrong.body.error.code).to.equal('INVITE_EMAIL_MISMATCH');
    expect((await api(platform.url, 'POST', '/api/invites/accept', { body: { token: tokenOf(created.body.link) } })).status).to.equal(401);
    expect((await api(platform.url, 'POST', '/api/invites/accept', { token: stranger.token, body: { token: 'x'.repeat(43) } })).status).to.equal(410);
    // Existing members cannot be invited; a viewer cannot invite; bad input is a 400.
    expect((await invite(owner, { email: owner.email, role: 'viewer' })).body.error.code).to.equal('ALREADY_MEMBER');
    expect((await invite(owner, { email: 'not-an-email', role: 'viewer' })).status).to.equal(400);
    expect((await invite(owner, { email: freshEmail(), role: 'emperor' })).status).to.equal(400);
    const viewerEmail = freshEmail();
    const viewerInvite = await invite(owner, { email: viewerEmail, role: 'viewer' });
    const viewer = await registerWithEmail(platform.url, viewerEmail);
    await api(platform.url, 'POST', '/api/invites/accept', { token: viewer.token, body: { token: tokenOf(viewerInvite.body.link) } });
    const byViewer = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/invites`, { token: viewer.token, body: { email: freshEmail(), role: 'viewer' } });
    expect(byViewer.status).to.equal(403);
  });

  it('without SMTP the link is shown and nothing is mailed', async () => {
    const plain = await startTestPlatform();
    try {
      const user = await registerUser(plain.url, 'No Mail');
      const created = await api(plain.url, 'POST', `/api/workspaces/${user.workspace.id}/invites`, { token: user.token, body: { email: 'someone@example.com', role: 'viewer' } });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ mailed: false, mailConfigured: false });
      expect(created.body.link).to.contain('/#/invite?token=');
    } finally {
      await plain.stop();
    }
  });
});
