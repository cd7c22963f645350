// Two owners who demote or remove each other at the same moment: one wins, the other gets 409, and no workspace is
// ever left without an owner (the guard is an atomic $inc in the database, not a count read before the write).
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { registerMember } from '../support/workspace-members';

describe('workspaces: the last owner under concurrency', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform();
  });
  after(async () => platform?.stop());

  async function twoOwners(): Promise<[TestUser, TestUser]> {
    const first = await registerUser(platform.url, 'First owner');
    const second = await registerMember(platform.url, first, 'owner');
    return [first, second];
  }

  const owners = async (workspaceId: string) =>
    platform.platform.models.Membership.countDocuments({ workspaceId: new Types.ObjectId(workspaceId), role: 'owner' });
  const ownerCount = async (workspaceId: string) => (await platform.platform.models.Workspace.findById(workspaceId).lean())?.ownerCount;

  for (const [label, request] of [
    ['demote each other', (actor: TestUser, other: TestUser) => api(platform.url, 'PATCH', `/api/workspaces/${actor.workspace.id}/members/${other.user.id}`, { token: actor.token, body: { role: 'admin' } })],
    ['remove each other', (actor: TestUser, other: TestUser) => api(platform.url, 'DELETE', `/api/workspaces/${actor.workspace.id}/members/${other.user.id}`, { token: actor.token })],
  ] as const) {
    it(`two owners who ${label} at once: one succeeds, the other is refused, an owner always remains (10 workspaces)`, async () => {
      for (let round = 0; round < 10; round += 1) {
        const [first, second] = await twoOwners();
        const answers = await Promise.all([request(first, second), request(second, first)]);
        const statuses = answers.map((answer) => answer.status).sort();
        expect(statuses[0]).to.be.lessThan(300);
        // The loser is refused either by the guard (409 LAST_OWNER / MEMBER_CHANGED) or, when the winner's change
        // landed before its role check, because it is no longer an owner (403).
        const loser = answers.find((answer) => answer.status >= 300)!;
        expect([403, 409]).to.include(loser.status);
        expect(['LAST_OWNER', 'MEMBER_CHANGED', 'FORBIDDEN']).to.include(loser.body.error.code);
        expect(await owners(first.workspace.id)).to.equal(1);
        expect(await ownerCount(first.workspace.id)).to.equal(1);
      }
    });
  }

  it('the owner count follows promotions, additions and removals', async () => {
    const [first, second] = await twoOwners();
    const workspaceId = first.workspace.id;
    expect(await ownerCount(workspaceId)).to.equal(2);
    const third = await registerMember(platform.url, first, 'viewer');
    expect((await api(platform.url, 'PATCH', `/api/workspaces/${workspaceId}/members/${third.user.id}`, { token: first.token, body: { role: 'owner' } })).status).to.equal(200);
    expect(await ownerCount(workspaceId)).to.equal(3);
    expect((await api(platform.url, 'DELETE', `/api/workspaces/${workspaceId}/members/${second.user.id}`, { token: first.token })).status).to.equal(204);
    expect((await api(platform.url, 'PATCH', `/api/workspaces/${workspaceId}/members/${third.user.id}`, { token: first.token, body: { role: 'builder' } })).status).to.equal(200);
    expect(await ownerCount(workspaceId)).to.equal(1);
    expect(await owners(workspaceId)).to.equal(1);
    const last = await api(platform.url, 'PATCH', `/api/workspaces/${workspaceId}/members/${first.user.id}`, { token: first.token, body: { role: 'admin' } });
    expect(last.status).to.equal(409);
    expect(last.body.error.code).to.equal('LAST_OWNER');
  });
});
