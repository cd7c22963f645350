import { expect } from 'chai';
import { hashPassword, passwordNeedsRehash, verifyPassword } from '../../server/vault/password-hashing';

describe('password-hashing', () => {
  it('hashes with Argon2id and verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).to.match(/^\$argon2id\$/);
    expect(hash).not.to.include('correct horse');
    expect(await verifyPassword(hash, 'correct horse battery staple')).to.equal(true);
    expect(await verifyPassword(hash, 'correct horse battery stapl')).to.equal(false);
    expect(await passwordNeedsRehash(hash)).to.equal(false);
  });

  it('hashes off the main thread: the event loop keeps turning while a hash is computed', async () => {
    const order: string[] = [];
    const hashing = hashPassword('event loop stays free').then(() => order.push('hash'));
    setImmediate(() => order.push('event loop'));
    await hashing;
    expect(order).to.deep.equal(['event loop', 'hash']);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password')).not.to.equal(await hashPassword('same password'));
  });

  it('answers false, without throwing, for hashes that are not pwhash strings', async () => {
    expect(await verifyPassword('', 'password')).to.equal(false);
    expect(await verifyPassword('$argon2id$garbage', 'password')).to.equal(false);
    expect(await verifyPassword('plain-text-password', 'plain-text-password')).to.equal(false);
  });

  it('refuses empty and oversized passwords', async () => {
    let caught: unknown;
    await hashPassword('').catch((error: unknown) => (caught = error));
    expect(caught).to.have.property('code', 'PASSWORD_INVALID');
    caught = undefined;
    await hashPassword('x'.repeat(5000)).catch((error: unknown) => (caught = error));
    expect(caught).to.have.property('code', 'PASSWORD_INVALID');
  });
});
