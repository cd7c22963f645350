// The foundation: health, JSON errors for bad input, log redaction, persistence across a restart, graceful shutdown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { expect } from 'chai';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform } from '../support/test-platform';
import { getTestMongoUri } from '../support/test-database';
import { startFaultProxy } from '../support/tcp-fault-proxy';
import { loadConfig } from '../../server/config/config';
import { createLogger } from '../../server/logger';
import { startPlatform } from '../../server/platform';
import { startProviderSimulator } from '../../server/llm/simulator';
import { runMigrations, MIGRATIONS } from '../../migrations/migration-runner';

describe('foundation', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform();
  });
  after(async () => platform?.stop());

  it('migrations ran at start-up, are recorded, and running them again applies nothing', async () => {
    const recorded = await platform.platform.database.connection.collection('migrations').find({}).toArray();
    expect(recorded.map((record) => record._id)).to.deep.equal(MIGRATIONS.map((migration) => migration.id));
    expect(await runMigrations(platform.platform.database.connection, platform.platform.logger)).to.deep.equal([]);
    const indexes = await platform.platform.models.MeterEvent.collection.indexes();
    expect(indexes.some((index) => index.unique && index.key.requestId === 1)).to.equal(true);
  });

  it('GET /health answers ok with the database up', async () => {
    const response = await api(platform.url, 'GET', '/health');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ status: 'ok', db: 'up' });
    expect(response.headers.get('x-request-id')).to.match(/^req_[a-f0-9]{32}$/);
  });

  it('answers malformed JSON, oversized bodies and unknown routes with JSON errors and stable codes', async () => {
    const malformed = await api(platform.url, 'POST', '/api/auth/login', { rawBody: '{"email": "a@b.c", ' });
    expect(malformed.status).to.equal(400);
    expect(malformed.body.error.code).to.equal('INVALID_JSON');
    const oversized = await api(platform.url, 'POST', '/api/auth/login', { rawBody: JSON.stringify({ email: 'x'.repeat(5 * 1024 * 1024), password: 'y' }) });
    expect(oversized.status).to.equal(413);
    expect(oversized.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
    const unknown = await api(platform.url, 'GET', '/api/nothing-here');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('NOT_FOUND');
    expect(unknown.headers.get('content-type')).to.contain('application/json');
    const unknownV1 = await api(platform.url, 'GET', '/v1/nothing-here');
    expect(unknownV1.status).to.equal(404);
    expect(unknownV1.body.error).to.have.keys(['message', 'type', 'code', 'param']);
    for (const response of [malformed, oversized, unknown]) expect(response.text).to.not.match(/at .*\.ts:\d+|<html/i);
  });

  it('/v1 (served before Express) keeps the request id, security headers, body limit and JSON-only bodies, in the OpenAI error shape', async () => {
    const express = await api(platform.url, 'GET', '/api/nothing-here');
    const v1 = await api(platform.url, 'GET', '/v1/models');
    expect(v1.status).to.equal(401);
    expect(v1.body.error).to.include({ code: 'invalid_api_key', type: 'authentication_error' });
    expect(v1.headers.get('x-request-id')).to.match(/^req_[a-f0-9]{32}$/);
    // The same security headers as every Express route (helmet's, captured once).
    for (const name of ['x-content-type-options', 'x-frame-options', 'strict-transport-security', 'content-security-policy', 'referrer-policy']) {
      expect(v1.headers.get(name), name).to.equal(express.headers.get(name)).and.to.be.a('string');
    }
    const completions = '/v1/chat/completions';
    const malformed = await api(platform.url, 'POST', completions, { rawBody: '{"messages": [' });
    expect([malformed.status, malformed.body.error.code, malformed.body.error.type]).to.deep.equal([400, 'INVALID_JSON', 'invalid_request_error']);
    const scalar = await api(platform.url, 'POST', completions, { rawBody: '"just a string"' });
    expect([scalar.status, scalar.body.error.code]).to.deep.equal([400, 'INVALID_JSON']);
    const notJson = await api(platform.url, 'POST', completions, { rawBody: 'messages=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([notJson.status, notJson.body.error.code]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const oversized = await api(platform.url, 'POST', completions, { rawBody: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] }) });
    expect([oversized.status, oversized.body.error.code]).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
    const wrongMethod = await api(platform.url, 'GET', completions);
    expect([wrongMethod.status, wrongMethod.body.error.code]).to.deep.equal([404, 'NOT_FOUND']);
    // A well-formed body without a key: 401, and the server is still healthy afterwards.
    const noKey = await api(platform.url, 'POST', completions, { body: { messages: [{ role: 'user', content: 'Hi' }] } });
    expect(noKey.status).to.equal(401);
    expect((await api(platform.url, 'GET', '/health')).status).to.equal(200);
  });

  it('redacts secrets: a canary sent as password, apiKey and authorization never reaches a log line', async () => {
    const canary = `canary-${crypto.randomBytes(8).toString('hex')}`;
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    logger.info({ password: canary, apiKey: canary, key: canary, authorization: `Bearer ${canary}`, req: { headers: { authorization: canary } }, body: { apiKey: canary } }, 'request');
    expect(lines.join('')).to.not.contain(canary);
    expect(lines.join('')).to.contain('[redacted]');

    // And through the running server: the same canary in a real request's headers and body.
    const before = platform.logs.length;
    await api(platform.url, 'POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: canary }, headers: { authorization: `Bearer ${canary}` } });
    await api(platform.url, 'GET', '/api/auth/me', { headers: { authorization: `Bearer ${canary}` } });
    const logged = platform.logs.slice(before).join('');
    expect(logged).to.contain('/api/auth/login');
    expect(logged).to.not.contain(canary);
  });

  it('a request that needs the unreachable database answers 503 DB_UNAVAILABLE with Retry-After, not a 500', async function () {
    this.timeout(60_000);
    const proxy = await startFaultProxy(await getTestMongoUri());
    const flaky = await startTestPlatform({ env: { MONGODB_URI: proxy.uri } });
    try {
      const user = await registerUser(flaky.url);
      await proxy.cut();
      const down = await api(flaky.url, 'GET', `/api/workspaces/${user.workspace.id}/agents`, { token: user.token });
      expect(down.status).to.equal(503);
      expect(down.body.error.code).to.equal('DB_UNAVAILABLE');
      expect(down.headers.get('retry-after')).to.equal('5');
      expect(down.text).to.not.match(/Mongo|stack|at \//);
    } finally {
      await proxy.restore();
      await flaky.stop();
      await proxy.close();
    }
  });

  it('a database that accepts but never answers fails requests with 503 DB_UNAVAILABLE instead of hanging them', async function () {
    this.timeout(60_000);
    const proxy = await startFaultProxy(await getTestMongoUri());
    const flaky = await startTestPlatform({ env: { MONGODB_URI: proxy.uri, DB_OPERATION_TIMEOUT_MS: '1500' } });
    try {
      const user = await registerUser(flaky.url);
      proxy.stall();
      const [agents, login] = await Promise.all([
        api(flaky.url, 'GET', `/api/workspaces/${user.workspace.id}/agents`, { token: user.token }),
        api(flaky.url, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } }),
      ]);
      for (const answer of [agents, login]) {
        expect(answer.status).to.equal(503);
        expect(answer.body.error.code).to.equal('DB_UNAVAILABLE');
      }
    } finally {
      await proxy.close();
      await flaky.stop();
    }
  });

  it('GET /health answers 503 with db: down when the database is unreachable', async () => {
    const proxy = await startFaultProxy(await getTestMongoUri());
    const flaky = await startTestPlatform({ env: { MONGODB_URI: proxy.uri } });
    try {
      await proxy.cut();
      const down = await api(flaky.url, 'GET', '/health');
      expect(down.status).to.equal(503);
      expect(down.body.db).to.equal('down');
      await proxy.restore();
      let up = await api(flaky.url, 'GET', '/health');
      for (let attempt = 0; attempt < 40 && up.status !== 200; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        up = await api(flaky.url, 'GET', '/health');
      }
      expect(up.body).to.deep.equal({ status: 'ok', db: 'up' });
    } finally {
      await flaky.stop();
      await proxy.close();
    }
  });

  it('graceful stop lets an in-flight call finish and flushes its meter event', async () => {
    const slow = await startProviderSimulator({ latencyMs: 400 });
    const draining = await startTestPlatform({ simulator: slow });
    try {
      const owner = await registerUser(draining.url);
      const agent = await createAgent(draining.url, owner, { mode: 'managed', plan: 'pro' });
      const inFlight = api(draining.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
        token: owner.token,
        body: { messages: [{ role: 'user', content: 'hello' }] },
      });
      // In flight: the call is held in the simulator's delay.
      while (slow.waitingRequests() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const models = draining.platform.models;
      const eventsBefore = await models.MeterEvent.countDocuments({});
      // Keep the database open after stop() to count: read through a second connection via the same store.
      const stopping = draining.platform.stop();
      const response = await inFlight;
      expect(response.status).to.equal(200);
      await stopping;
      const check = await startTestPlatform({ databaseName: draining.platform.database.connection.name });
      try {
        expect(await check.platform.models.MeterEvent.countDocuments({ requestId: response.body.requestId })).to.equal(1);
        expect(eventsBefore).to.equal(0);
      } finally {
        await check.stop();
      }
    } finally {
      await draining.stop();
      await slow.close();
    }
  });
});

describe('configuration', () => {
  it('names the variable in every error and refuses production without secrets', () => {
    expect(() => loadConfig({ PORT: 'abc', DATA_DIR: os.tmpdir() })).to.throw(/PORT/);
    expect(() => loadConfig({ MONGODB_URI: 'http://nope', DATA_DIR: os.tmpdir() })).to.throw(/MONGODB_URI/);
    expect(() => loadConfig({ NODE_ENV: 'production', VAULT_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}` })).to.throw(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).to.throw(/VAULT_KEYS/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(40), VAULT_KEYS: 'k1:short' })).to.throw(/VAULT_KEYS/);
    expect(() => loadConfig({ LLM_SANDBOX: 'sometimes', DATA_DIR: os.tmpdir() })).to.throw(/LLM_SANDBOX/);
  });

  it('outside production generates JWT_SECRET and VAULT_KEYS once and keeps them under the data dir', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecret).to.have.length.greaterThan(32);
    expect(second.jwtSecret).to.equal(first.jwtSecret);
    expect(Buffer.from(second.vaultKeys[0]!.key).equals(Buffer.from(first.vaultKeys[0]!.key))).to.equal(true);
    expect(fs.existsSync(path.join(dataDir, 'dev-secrets.json'))).to.equal(true);
  });
});

describe('embedded database mode', function () {
  this.timeout(60_000);
  it('without MONGODB_URI uses the built-in store with a journal, and data survives a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-'));
    // Pretend an earlier start already found no mongod binary, so this test does not wait for a download attempt.
    fs.writeFileSync(path.join(dataDir, 'mongod-unavailable.json'), JSON.stringify({ failedAt: new Date().toISOString(), reason: 'test' }));
    const environment = { NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LLM_SANDBOX: 'off' };
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const first = await startPlatform({ config: loadConfig(environment), logger });
    expect(first.database.mode).to.equal('wire-store');
    expect(lines.filter((line) => line.includes('built-in MongoDB-wire-compatible store'))).to.have.length(1);
    const email = `persist-${crypto.randomBytes(4).toString('hex')}@example.com`;
    const registered = await api(first.url, 'POST', '/api/auth/register', { body: { email, password: 'persistent password', name: 'Pat' } });
    expect(registered.status).to.equal(201);
    await first.stop();

    const second = await startPlatform({ config: loadConfig(environment), logger });
    try {
      const login = await api(second.url, 'POST', '/api/auth/login', { body: { email, password: 'persistent password' } });
      expect(login.status).to.equal(200);
      const me = await api(second.url, 'GET', '/api/auth/me', { token: login.body.token });
      expect(me.body.workspaces).to.have.length(1);
    } finally {
      await second.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
