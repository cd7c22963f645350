import crypto from 'node:crypto';
import { expect } from 'chai';
import { createVault, maskSecret, VaultOpenError, type SealedSecret, type SecretBinding } from '../../server/vault/vault.service';

const PLAINTEXT = 'sk-proj-THISISTHEPLAINTEXTKEY0123456789a1b2';
const binding: SecretBinding = { workspaceId: 'w1', agentId: 'a1', provider: 'openai' };

function masterKey(id: string) {
  return { id, key: new Uint8Array(crypto.randomBytes(32)) };
}

function expectOpenFailure(action: () => unknown, forbidden: string[] = []): VaultOpenError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(VaultOpenError);
  const error = caught as VaultOpenError;
  expect(error.code).to.equal('VAULT_OPEN_FAILED');
  const rendered = `${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`;
  for (const secret of [PLAINTEXT, ...forbidden]) expect(rendered).not.to.include(secret);
  return error;
}

describe('vault.service', () => {
  const k1 = masterKey('k1');
  const k2 = masterKey('k2');

  it('seals and opens a secret for its own record', async () => {
    const vault = await createVault([k1]);
    const sealed = vault.seal(PLAINTEXT, binding);
    expect(sealed).to.include({ v: 1, keyId: 'k1' });
    expect(Buffer.from(sealed.nonce, 'base64')).to.have.length(24);
    expect(sealed.ciphertext).not.to.include(PLAINTEXT);
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('utf8')).not.to.include('PLAINTEXT');
    expect(vault.open(sealed, binding)).to.equal(PLAINTEXT);
  });

  it('uses a fresh nonce for every seal', async () => {
    const vault = await createVault([k1]);
    const first = vault.seal(PLAINTEXT, binding);
    const second = vault.seal(PLAINTEXT, binding);
    expect(first.nonce).not.to.equal(second.nonce);
    expect(first.ciphertext).not.to.equal(second.ciphertext);
  });

  for (const [label, other] of [
    ['another agent', { ...binding, agentId: 'a2' }],
    ['another workspace', { ...binding, workspaceId: 'w2' }],
    ['another provider', { ...binding, provider: 'anthropic' }],
  ] as const) {
    it(`refuses to open a ciphertext copied onto ${label}`, async () => {
      const vault = await createVault([k1]);
      const sealed = vault.seal(PLAINTEXT, binding);
      const error = expectOpenFailure(() => vault.open(sealed, other), [sealed.ciphertext]);
      expect(error.reason).to.equal('authentication_failed');
    });
  }

  it('refuses a tampered ciphertext or nonce', async () => {
    const vault = await createVault([k1]);
    const sealed = vault.seal(PLAINTEXT, binding);
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[3] = bytes[3]! ^ 0x01;
    expectOpenFailure(() => vault.open({ ...sealed, ciphertext: bytes.toString('base64') }, binding), [sealed.ciphertext]);
    const nonce = Buffer.from(sealed.nonce, 'base64');
    nonce[0] = nonce[0]! ^ 0x80;
    expectOpenFailure(() => vault.open({ ...sealed, nonce: nonce.toString('base64') }, binding));
    // A ciphertext relabelled with another key id does not open either: the key id is authenticated too.
    const both = await createVault([k1, k2]);
    expectOpenFailure(() => both.open({ ...sealed, keyId: 'k2' }, binding));
  });

  it('opens the same sealed object again and again, and notices when that object is changed in place', async () => {
    const vault = await createVault([k1]);
    const sealed = vault.seal(PLAINTEXT, binding);
    for (let n = 0; n < 3; n += 1) expect(vault.open(sealed, binding)).to.equal(PLAINTEXT);
    const original = sealed.ciphertext;
    const bytes = Buffer.from(original, 'base64');
    bytes[0] = bytes[0]! ^ 0x01;
    sealed.ciphertext = bytes.toString('base64');
    expectOpenFailure(() => vault.open(sealed, binding));
    sealed.ciphertext = original;
    expect(vault.open(sealed, binding)).to.equal(PLAINTEXT);
    sealed.nonce = 'AAAA';
    expect(expectOpenFailure(() => vault.open(sealed, binding)).reason).to.equal('malformed');
  });

  it('refuses malformed sealed secrets with VAULT_OPEN_FAILED', async () => {
    const vault = await createVault([k1]);
    const sealed = vault.seal(PLAINTEXT, binding);
    expect(expectOpenFailure(() => vault.open({ ...sealed, nonce: 'not base64!' }, binding)).reason).to.equal('malformed');
    expect(expectOpenFailure(() => vault.open({ ...sealed, v: 2 } as unknown as SealedSecret, binding)).reason).to.equal('malformed');
    expectOpenFailure(() => vault.open({ ...sealed, ciphertext: '' }, binding));
    expectOpenFailure(() => vault.open({ ...sealed, ciphertext: 'AAAA' }, binding));
    // Base64 that Buffer would quietly half-read is refused outright.
    for (const ciphertext of [`${sealed.ciphertext}!`, sealed.ciphertext.slice(1), `${sealed.ciphertext} `, sealed.ciphertext.replace(/=+$/, '')]) {
      if (ciphertext === sealed.ciphertext) continue;
      expect(expectOpenFailure(() => vault.open({ ...sealed, ciphertext }, binding)).reason).to.equal('malformed');
    }
  });

  it('rotates: an old ciphertext opens with the new key set, needs a reseal, and reseals under the newest key', async () => {
    const oldVault = await createVault([k1]);
    const sealed = oldVault.seal(PLAINTEXT, binding);

    const vault = await createVault([k1, k2]);
    expect(vault.newestKeyId).to.equal('k2');
    expect(vault.open(sealed, binding)).to.equal(PLAINTEXT);
    expect(vault.needsReseal(sealed)).to.equal(true);

    const resealed = vault.reseal(sealed, binding);
    expect(resealed.keyId).to.equal('k2');
    expect(vault.needsReseal(resealed)).to.equal(false);
    expect(vault.open(resealed, binding)).to.equal(PLAINTEXT);
    expect(vault.seal(PLAINTEXT, binding).keyId).to.equal('k2');

    // Once k1 is retired, only the resealed copy opens.
    const retired = await createVault([k2]);
    expect(retired.open(resealed, binding)).to.equal(PLAINTEXT);
    const error = expectOpenFailure(() => retired.open(sealed, binding));
    expect(error.reason).to.equal('unknown_key');
  });

  it('fails with VAULT_OPEN_FAILED for an unknown key id, naming neither key nor ciphertext', async () => {
    const vault = await createVault([k1]);
    const sealed = vault.seal(PLAINTEXT, binding);
    const error = expectOpenFailure(() => vault.open({ ...sealed, keyId: 'k9' }, binding), [
      sealed.ciphertext,
      Buffer.from(k1.key).toString('base64'),
    ]);
    expect(error.reason).to.equal('unknown_key');
  });

  it('does not depend on the caller keeping its key buffers intact', async () => {
    const key = masterKey('k1');
    const vault = await createVault([key]);
    const sealed = vault.seal(PLAINTEXT, binding);
    key.key.fill(0);
    expect(vault.open(sealed, binding)).to.equal(PLAINTEXT);
  });

  it('refuses bad key sets and bindings that could collide', async () => {
    let caught: unknown;
    await createVault([]).catch((error: unknown) => (caught = error));
    expect(caught).to.be.instanceOf(Error);
    caught = undefined;
    await createVault([{ id: 'short', key: new Uint8Array(16) }]).catch((error: unknown) => (caught = error));
    expect(caught).to.be.instanceOf(Error);

    const vault = await createVault([k1]);
    expect(() => vault.seal(PLAINTEXT, { ...binding, agentId: 'a|b' })).to.throw(/binding/);
    expect(() => vault.seal(PLAINTEXT, { ...binding, workspaceId: '' })).to.throw(/binding/);
  });

  describe('maskSecret', () => {
    const cases: [string, string][] = [
      ['sk-abcdefghijklmnopqrstuvwxyza1b2', 'sk-…a1b2'],
      ['sk-proj-abcdefghijklmnopqrstuvwxyzWXYZ', 'sk-proj-…WXYZ'],
      ['sk-ant-api03-abcdefghijklmnopqrstuvwxyz-9876', 'sk-ant-…9876'],
      ['sk-or-v1-0123456789abcdef0123456789abcdef', 'sk-or-v1-…cdef'],
      ['gsk_abcdefghijklmnopqrstuvwxyz1234', 'gsk_…1234'],
      ['AIzaSyabcdefghijklmnopqrstuvwxyz5678', '…5678'],
      ['  sk-abcdefghijklmnopqrstuvwxyza1b2\n', 'sk-…a1b2'],
      ['sk-short12', '…12'],
      ['abcdef', '…f'],
      ['abc', '…'],
      ['', '…'],
    ];
    for (const [key, expected] of cases) {
      it(`masks ${JSON.stringify(key)} as ${expected}`, () => {
        expect(maskSecret(key)).to.equal(expected);
      });
    }
  });
});
