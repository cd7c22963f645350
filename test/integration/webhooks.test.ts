// Webhooks: workspace admins register endpoints (SSRF-guarded like custom provider URLs); alert events are delivered
// signed (HMAC-SHA256 over "timestamp.body", verified here with the documented recipe), retried with backoff against a
// failing real local receiver, logged, and kept in the database so a restart still delivers them.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';
import { uniqueDatabaseName } from '../support/test-database';
import { registerMember } from '../support/workspace-members';
import { verifyWebhookSignature } from '../../server/webhooks/webhook-signature';
import { secretBinding, WebhookService } from '../../server/webhooks/webhook.service';
import { createVault } from '../../server/vault/vault.service';
import { parseVaultKeys } from '../../server/config/config';

/** The verification recipe of docs/API-EXTENSIONS.md ("Webhooks"), written out as a receiver would. */
function verifyAsDocumented(secret: string, signatureHeader: string, rawBody: string, toleranceSeconds = 300): boolean {
  const fields = new Map(signatureHeader.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(fields.get('t'));
  const signature = fields.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return signature.length === expected.length && crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP receiver on loopback that answers with scripted statuses (then 200) and records what it got. */
async function startReceiver() {
  const received: Received[] = [];
  let statuses: number[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const status = statuses.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver is down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/agent-host`,
    received,
    answerWith(next: number[]) {
      statuses = [...next];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, withinMs = 10_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

describe('webhooks', function () {
  this.timeout(120_000);
  const vaultKeys = `hooks1:${crypto.randomBytes(32).toString('base64')}`;
  const databaseName = uniqueDatabaseName('webhooks');
  const policy = { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 4, pollIntervalMs: 50 };
  let platform: TestPlatform;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let owner: TestUser;

  const start = () => startTestPlatform({ databaseName, env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'true', VAULT_KEYS: vaultKeys }, webhookDelivery: policy });
  const hooks = (path = '', method = 'GET', body?: unknown, user = owner) => api(platform.url, method, `/api/workspaces/${user.workspace.id}/webhooks${path}`, { token: user.token, body });

  before(async () => {
    receiver = await startReceiver();
    platform = await start();
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  it('delivers a signed alert event after the receiver failed twice, with backoff, and logs every attempt', async () => {
    const created = await hooks('', 'POST', { url: receiver.url, description: 'ops channel', events: ['alert.raised', 'alert.resolved'] });
    expect(created.status).to.equal(201);
    const secret = created.body.secret as string;
    expect(secret).to.match(/^whsec_/);
    expect(created.body.secretPrefix).to.equal(secret.slice(0, 12));
    // Shown once: never again in a listing, and stored sealed, not in plaintext.
    const listed = await hooks();
    expect(listed.text).to.not.include(secret);
    expect(listed.body).to.have.length(1);
    const stored = await platform.platform.models.WebhookEndpoint.collection.findOne({});
    expect(JSON.stringify(stored)).to.not.include(secret.slice(6));

    receiver.answerWith([500, 503]);
    // A real alert: the provider rejects this agent's key.
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-invalid-webhook-key' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const failed = await api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content: 'hi' }] } });
    expect(failed.status).to.equal(424);

    const deliveries = await waitFor(() => hooks(`/${created.body.id}/deliveries`), (response) => response.body[0]?.status === 'delivered');
    const [delivery] = deliveries.body;
    expect(delivery.status).to.equal('delivered');
    expect(delivery.attempts).to.equal(3);
    expect(delivery.log.map((attempt: { statusCode: number }) => attempt.statusCode)).to.deep.equal([500, 503, 200]);
    expect(delivery.log[0].error).to.include('HTTP 500');
    expect(receiver.received).to.have.length(3);
    // Backoff: the second wait is longer than the first (100 ms, then 200 ms, ±20 %).
    const [first, second, third] = receiver.received;
    expect(second!.at - first!.at).to.be.at.least(80);
    expect(third!.at - second!.at).to.be.at.least(160);

    for (const attempt of receiver.received) {
      const signature = String(attempt.headers['agent-host-signature']);
      expect(verifyAsDocumented(secret, signature, attempt.body), 'the documented recipe').to.equal(true);
      expect(verifyWebhookSignature(secret, signature, attempt.body)).to.equal(true);
      expect(verifyAsDocumented(secret, signature, attempt.body.replace('key_invalid', 'key_valid')), 'a changed body').to.equal(false);
      expect(verifyAsDocumented(`${secret}x`, signature, attempt.body), 'another secret').to.equal(false);
      expect(attempt.headers['agent-host-event']).to.equal('alert.raised');
      expect(attempt.headers['agent-host-delivery']).to.equal(delivery.id);
    }
    const event = JSON.parse(third!.body);
    expect(event).to.include({ type: 'alert.raised', workspaceId: owner.workspace.id });
    expect(event.data.alert).to.include({ type: 'key_invalid', agentId: agent.id });
    expect(third!.body).to.not.include('sk-test-invalid');

    // Replacing the key resolves the alert, and that is an event too.
    const replaced = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm`, {
      token: owner.token,
      body: { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-good-webhook-key' },
    });
    expect(replaced.status).to.equal(200);
    const resolved = await waitFor(() => hooks(`/${created.body.id}/deliveries`), (response) => response.body.some((row: { eventType: string; status: string }) => row.eventType === 'alert.resolved' && row.status === 'delivered'));
    expect(resolved.body.map((row: { eventType: string }) => row.eventType)).to.include('alert.resolved');
    const resolvedBody = JSON.parse(receiver.received.at(-1)!.body);
    expect(resolvedBody.data.alert).to.include({ type: 'key_invalid', resolvedReason: 'key_replaced' });
    expect(verifyAsDocumented(secret, String(receiver.received.at(-1)!.headers['agent-host-signature']), receiver.received.at(-1)!.body)).to.equal(true);
    // No secret in any log line.
    expect(platform.logs.join('\n')).to.not.include(secret);
  });

  it('gives up after the last attempt against a receiver that keeps failing, and says so in the log', async () => {
    const created = await hooks('', 'POST', { url: receiver.url });
    receiver.answerWith([500, 500, 500, 500, 500]);
    const before = receiver.received.length;
    const test = await hooks(`/${created.body.id}/test`, 'POST');
    expect(test.status).to.equal(202);
    const deliveries = await waitFor(() => hooks(`/${created.body.id}/deliveries`), (response) => response.body[0]?.status === 'failed');
    expect(deliveries.body[0]).to.include({ status: 'failed', attempts: 4, lastStatusCode: 500, nextAttemptAt: null, eventType: 'webhook.test' });
    expect(receiver.received.length - before).to.equal(4);
    receiver.answerWith([]);
    expect((await hooks(`/${created.body.id}`, 'DELETE')).status).to.equal(204);
  });

  it('a delivery due while the platform is down is sent after the restart (deliveries are durable)', async () => {
    for (const endpoint of (await hooks()).body as Array<{ id: string }>) await hooks(`/${endpoint.id}`, 'DELETE');
    const created = await hooks('', 'POST', { url: receiver.url, events: ['alert.raised'] });
    // The receiver fails the first attempt; the platform stops before the retry is due.
    receiver.answerWith([500]);
    const before = receiver.received.length;
    await platform.platform.alerts.raise({ workspaceId: owner.workspace.id, agentId: null, type: 'cap_reached', message: 'restart test', incident: crypto.randomUUID() });
    await waitFor(async () => receiver.received.length, (count) => count > before);
    await platform.stop();
    const pending = await (async () => {
      const restarted = await start();
      platform = restarted;
      return waitFor(() => hooks(`/${created.body.id}/deliveries`), (response) => response.body[0]?.status === 'delivered');
    })();
    expect(pending.body[0]).to.include({ status: 'delivered', attempts: 2 });
    const last = receiver.received.at(-1)!;
    expect(JSON.parse(last.body).data.alert.message).to.equal('restart test');
    // The restarted platform opened the same sealed secret to sign (same vault keys).
    const secretCheck = await platform.platform.models.WebhookEndpoint.collection.findOne({ _id: new (await import('mongoose')).Types.ObjectId(created.body.id) });
    expect(secretCheck).to.not.equal(null);
    expect(String(last.headers['agent-host-signature'])).to.match(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('a closed statement is a statement.closed event, delivered once however often it is published', async () => {
    for (const endpoint of (await hooks()).body as Array<{ id: string }>) await hooks(`/${endpoint.id}`, 'DELETE');
    const created = await hooks('', 'POST', { url: receiver.url, events: ['statement.closed'] });
    receiver.answerWith([]);
    const before = receiver.received.length;
    const notice = { workspaceId: owner.workspace.id, month: '2026-10', statementId: 'st_test_1', number: 'AH-2026-10-0001', amountDueMicros: 12_345_678, closedAt: new Date('2026-11-01T00:05:00Z') };
    expect(await platform.platform.webhooks.publishStatementClosed(notice)).to.equal(1);
    expect(await platform.platform.webhooks.publishStatementClosed(notice), 'the same statement again').to.equal(0);
    const deliveries = await waitFor(() => hooks(`/${created.body.id}/deliveries`), (response) => response.body[0]?.status === 'delivered');
    expect(deliveries.body).to.have.length(1);
    expect(receiver.received.length - before).to.equal(1);
    const event = JSON.parse(receiver.received.at(-1)!.body);
    expect(event).to.include({ type: 'statement.closed', id: 'statement.closed:st_test_1' });
    expect(event.data.statement).to.deep.equal({ id: 'st_test_1', number: 'AH-2026-10-0001', month: '2026-10', amountDueUsd: 12.345678, closedAt: '2026-11-01T00:05:00.000Z' });
  });

  it('closing a month\'s statement (the statements service) sends statement.closed to the workspace\'s endpoint', async () => {
    // A workspace of its own: the restart above already closed last month's statements of the existing ones.
    const billed = await registerUser(platform.url);
    const created = await hooks('', 'POST', { url: receiver.url, events: ['statement.closed'] }, billed);
    receiver.answerWith([]);
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 10)).toISOString().slice(0, 7);
    const { closed } = await platform.platform.statements.close(billed.workspace.id, lastMonth);
    expect(closed).to.equal(true);
    const deliveries = await waitFor(() => hooks(`/${created.body.id}/deliveries`, 'GET', undefined, billed), (response) => response.body[0]?.status === 'delivered');
    expect(deliveries.body.map((row: { eventType: string }) => row.eventType)).to.deep.equal(['statement.closed']);
    const event = JSON.parse(receiver.received.at(-1)!.body);
    expect(event.data.statement.month).to.equal(lastMonth);
  });

  it('vault:rotate re-seals webhook signing secrets under the newest master key; the secret stays the same', async () => {
    const newer = `hooks2:${crypto.randomBytes(32).toString('base64')}`;
    const rotatedVault = await createVault(parseVaultKeys(`${vaultKeys},${newer}`));
    const created = await hooks('', 'POST', { url: receiver.url, events: ['alert.resolved'] });
    const rotating = new WebhookService(platform.platform.models, rotatedVault, { allowPrivate: true });
    const counts = await rotating.resealAllSecrets();
    expect(counts.resealed).to.be.at.least(1);
    expect(counts.failed).to.equal(0);
    const stored = (await platform.platform.models.WebhookEndpoint.findById(created.body.id).lean())!;
    expect(stored.sealedSecret.keyId).to.equal('hooks2');
    expect(rotatedVault.open(stored.sealedSecret, secretBinding(stored))).to.equal(created.body.secret);
    expect((await rotating.resealAllSecrets()).resealed, 'idempotent').to.equal(0);
  });

  it('only admins manage webhooks; another workspace gets 404; bad input is a 400', async () => {
    const created = await hooks('', 'POST', { url: receiver.url });
    const builder = await registerMember(platform.url, owner, 'builder');
    expect((await hooks('', 'GET', undefined, builder)).status).to.equal(403);
    expect((await hooks('', 'POST', { url: receiver.url }, builder)).status).to.equal(403);
    const stranger = await registerUser(platform.url);
    expect((await api(platform.url, 'GET', `/api/workspaces/${stranger.workspace.id}/webhooks/${created.body.id}/deliveries`, { token: stranger.token })).status).to.equal(404);
    expect((await api(platform.url, 'DELETE', `/api/workspaces/${stranger.workspace.id}/webhooks/${created.body.id}`, { token: stranger.token })).status).to.equal(404);
    const unknownEvent = await hooks('', 'POST', { url: receiver.url, events: ['everything'] });
    expect(unknownEvent.status).to.equal(400);
    expect(unknownEvent.body.error.code).to.equal('VALIDATION_FAILED');
  });
});

describe('webhook URLs pass the SSRF guard of custom provider URLs', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  before(() => ({ platform, owner } = platformAndOwner));

  it('refuses non-https and private, loopback, link-local or metadata addresses with 400 UNSAFE_WEBHOOK_URL, storing nothing', async () => {
    const refused = [
      'http://hooks.example.com/agent-host',
      'https://127.0.0.1/hook',
      'https://localhost:8443/hook',
      'https://10.1.2.3/hook',
      'https://192.168.1.20/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://metadata.google.internal/',
      'https://user:password@hooks.example.com/',
      'ftp://hooks.example.com/',
      'not a url',
    ];
    for (const url of refused) {
      const response = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/webhooks`, { token: owner.token, body: { url } });
      expect(response.status, url).to.equal(400);
      expect(response.body.error.code, url).to.equal('UNSAFE_WEBHOOK_URL');
    }
    expect((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/webhooks`, { token: owner.token })).body).to.deep.equal([]);
    expect(await platform.platform.models.WebhookEndpoint.countDocuments({})).to.equal(0);
  });
});
