// Master key rotation across restarts on one database: k1 → k1,k2 (old seals still open) → vault:rotate → k2 only.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pino from 'pino';
import { Types } from 'mongoose';
import { api, CANARY_PROVIDER_KEY, createAgent, registerUser, startTestPlatform, TEST_JWT_SECRET, type TestPlatform, type TestUser } from '../support/test-platform';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import { rotateVaultKeys } from '../../scripts/vault-rotate';

const BYOK = { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY } as const;
const newMasterKey = () => crypto.randomBytes(32).toString('base64');

describe('vault key rotation (HTTP + vault:rotate)', function () {
  this.timeout(60_000);
  const databaseName = uniqueDatabaseName('vault_rotation');
  const k1 = `k1:${newMasterKey()}`;
  const k2 = `k2:${newMasterKey()}`;
  let running: TestPlatform | undefined;
  let owner: TestUser;
  let oldAgentId: string;
  let newAgentId: string;

  const start = async (vaultKeys: string) => {
    running = await startTestPlatform({ databaseName, env: { VAULT_KEYS: vaultKeys } });
    return running;
  };
  const stop = async () => {
    await running?.stop();
    running = undefined;
  };
  const connectionTest = (test: TestPlatform, agentId: string) =>
    api(test.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/llm/test`, { token: owner.token });
  const storedKeyId = async (test: TestPlatform, agentId: string) => (await test.platform.models.Agent.findById(agentId).lean())!.llm.sealedKey!.keyId;

  after(stop);

  it('seals under k1 while k1 is the only key', async () => {
    const test = await start(k1);
    owner = await registerUser(test.url, 'Rotating owner');
    oldAgentId = (await createAgent(test.url, owner, BYOK)).id;
    expect(await storedKeyId(test, oldAgentId)).to.equal('k1');
    expect((await connectionTest(test, oldAgentId)).body.ok).to.equal(true);
    await stop();
  });

  it('still opens k1 seals with VAULT_KEYS=k1,k2 and seals new keys under k2', async () => {
    const test = await start(`${k1},${k2}`);
    const opened = await connectionTest(test, oldAgentId);
    expect(opened.body, opened.text).to.include({ ok: true, status: 'valid' });
    newAgentId = (await createAgent(test.url, owner, BYOK)).id;
    expect(await storedKeyId(test, newAgentId)).to.equal('k2');
  });

  it('re-seals the k1 seal under k2 (rotateVaultKeys, the function behind npm run vault:rotate) and is idempotent', async () => {
    const test = running!;
    const sealedBefore = (await test.platform.models.Agent.findById(oldAgentId).lean())!.llm.sealedKey!;
    const logger = pino({ level: 'silent' });
    const counts = await rotateVaultKeys(test.platform.config, logger, { databaseName });
    expect(counts).to.deep.equal({ total: 2, resealed: 1, alreadyCurrent: 1, failed: 0 });
    const sealedAfter = (await test.platform.models.Agent.findById(oldAgentId).lean())!.llm.sealedKey!;
    expect(sealedAfter.keyId).to.equal('k2');
    expect(sealedAfter.nonce).not.to.equal(sealedBefore.nonce);
    expect(sealedAfter.ciphertext).not.to.equal(sealedBefore.ciphertext);
    expect(await rotateVaultKeys(test.platform.config, logger, { databaseName })).to.deep.equal({ total: 2, resealed: 0, alreadyCurrent: 2, failed: 0 });
    // The running server opens the re-sealed key too.
    expect((await connectionTest(test, oldAgentId)).body.ok).to.equal(true);
    await stop();
  });

  it('opens both keys with VAULT_KEYS=k2 only, and chat works', async () => {
    const test = await start(k2);
    for (const agentId of [oldAgentId, newAgentId]) {
      const opened = await connectionTest(test, agentId);
      expect(opened.body, opened.text).to.include({ ok: true, status: 'valid' });
    }
    const chat = await api(test.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${oldAgentId}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'Hi' }] } });
    expect(chat.status, chat.text).to.equal(200);
    await stop();
  });

  it('`npm run vault:rotate` prints the counts and fails while a seal names a key that is not configured', async () => {
    // A k2 seal and a seal under an unknown key "k0" (as if k0 had been dropped before rotating).
    const test = await start(k2);
    const stranded = await createAgent(test.url, owner, BYOK);
    await test.platform.models.Agent.updateOne({ _id: new Types.ObjectId(stranded.id) }, { $set: { 'llm.sealedKey.keyId': 'k0' } });
    await stop();

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-rotate-'));
    const env = { ...process.env, NODE_ENV: 'test', MONGODB_URI: await getTestMongoUri(), VAULT_KEYS: `${k1},${k2}`, JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir };
    const run = promisify(execFile);
    try {
      await run('npm', ['run', '--silent', 'vault:rotate', '--', '--database', databaseName], { cwd: path.join(__dirname, '../..'), env });
      expect.fail('vault:rotate should exit non-zero when a key cannot be re-sealed');
    } catch (error) {
      const failure = error as { code?: number; stdout: string; stderr: string };
      expect(failure.code, failure.stderr).to.equal(1);
      const countsLine = failure.stdout.trim().split('\n').pop()!;
      expect(JSON.parse(countsLine)).to.deep.equal({ total: 3, resealed: 0, alreadyCurrent: 2, failed: 1 });
      expect(failure.stderr).to.include('could not be re-sealed');
      for (const secret of [CANARY_PROVIDER_KEY, k1.slice(3), k2.slice(3)]) {
        expect(failure.stdout + failure.stderr).not.to.include(secret);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
