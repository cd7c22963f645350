// Billing end to end over real HTTP and the simulator: plan changes recorded with their actor, the billing invariant
// (plan-fee segments + Σ meter events' prices = amount due, and the usage API, CSV and statement agree), the call that
// crosses the allowance during a change, calls in flight during a change, month close by two instances at once, a
// late event after close, and a statement re-read after a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { uniqueDatabaseName } from '../support/test-database';
import defaultCatalog from '../../server/catalog/default-catalog.json';
import { monthOf } from '../../server/metering/pricing';
import { monthBounds, nextMonth } from '../../server/metering/billing/billing-rule';
import type { StatementClosedEvent } from '../../server/metering/billing/statement-events';
import { meterEventFixture } from '../support/meter-events';
import { operatorStatementCsv } from '../../server/metering/billing/statement-operator-export';
import type { StatementDocument } from '../../server/metering/billing/statement.models';

const ALLOWANCES = { starter: 3_000, pro: 6_000, ultra: 20_000 };

function smallAllowanceCatalog(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-')), 'catalog.json');
  fs.writeFileSync(file, JSON.stringify({ plans: defaultCatalog.plans.map((plan) => ({ ...plan, includedTokens: ALLOWANCES[plan.id as keyof typeof ALLOWANCES] })) }));
  return file;
}

const PROMPT = 'Tell me about the opening hours and the returns policy. '.repeat(20);
const usdMicros = (usd: number) => Math.round(usd * 1_000_000);
const afterMonth = (month: string) => new Date(monthBounds(nextMonth(month)).start.getTime() + 3_600_000);

describe('billing: plan history, the billing invariant and monthly statements', function () {
  this.timeout(120_000);
  const month = monthOf(new Date());
  const databaseName = uniqueDatabaseName('billing');
  const catalogFile = smallAllowanceCatalog();
  let platform: TestPlatform;
  let owner: TestUser;

  const start = () => startTestPlatform({ databaseName, env: { CATALOG_FILE: catalogFile }, statements: { closeJob: false } });
  before(async () => {
    platform = await start();
    owner = await registerUser(platform.url);
  });
  after(async () => platform?.stop());

  const ws = (user: TestUser = owner) => `/api/workspaces/${user.workspace.id}`;
  const call = (key: string, content = PROMPT) =>
    api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content }], max_tokens: 40 } });
  const setLlm = (agentId: string, llm: Record<string, unknown>, user: TestUser = owner) => api(platform.url, 'PUT', `${ws(user)}/agents/${agentId}/llm`, { token: user.token, body: llm });
  const events = async (agentId: string) =>
    (await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId), month }).sort({ timestamp: 1, _id: 1 }).lean()) as Array<{ requestId: string; plan: string | null; mode: string; tokensInput: number; tokensOutput: number; overageTokens: number; priceTotalMicros: number; credential: string; priceSnapshot: { overageUsdPerMillion: number } }>;
  const rollup = async (agentId: string) => platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month });

  /** The invariant, for every agent of the workspace and the month: statement = usage API = CSV = Σ segments + Σ event prices. */
  async function checkInvariant(user: TestUser) {
    await platform.platform.meter.drain();
    const usage = (await api(platform.url, 'GET', `${ws(user)}/usage?month=${month}`, { token: user.token })).body;
    const preview = (await api(platform.url, 'GET', `${ws(user)}/statements/preview?month=${month}`, { token: user.token })).body;
    const allEvents = await platform.platform.models.MeterEvent.find({ workspaceId: new Types.ObjectId(user.workspace.id), month }).lean();
    const eventPrices = allEvents.reduce((total, event) => total + event.priceTotalMicros, 0);
    const feeLines = preview.lines.filter((line: { type: string }) => line.type === 'plan_fee' || line.type === 'allowance_minimum');
    const fees = feeLines.reduce((total: number, line: { amountMicros: number }) => total + line.amountMicros, 0);
    expect(preview.totals.amountDueMicros, 'amount due = plan-fee lines + Σ event prices').to.equal(fees + eventPrices);
    expect(preview.lines.reduce((total: number, line: { amountMicros: number }) => total + line.amountMicros, 0), 'the lines add up').to.equal(preview.totals.amountDueMicros);
    expect(usdMicros(usage.totals.amountDueUsd), 'usage API total = statement').to.equal(preview.totals.amountDueMicros);
    expect(usdMicros(usage.totals.overageUsd)).to.equal(eventPrices);
    for (const row of usage.agents) {
      const line = preview.agents.find((agent: { agentId: string }) => agent.agentId === row.agentId);
      expect(usdMicros(row.amountDueUsd), `agent ${row.name}`).to.equal(line?.amountDueMicros ?? 0);
    }
    const csv = await api(platform.url, 'GET', `${ws(user)}/usage/export.csv?month=${month}`, { token: user.token });
    const [header, ...rows] = csv.text.trim().split('\n');
    const columns = header!.split(',');
    expect(columns).to.include('agentName');
    expect(columns).to.not.include('credential');
    const priceColumn = columns.indexOf('priceTotalUsd');
    expect(rows.reduce((total, row) => total + usdMicros(Number(row.split(',')[priceColumn])), 0), 'CSV prices = Σ event prices').to.equal(eventPrices);
    return { usage, preview, allEvents };
  }

  it('records every LLM setting change with its time and actor; upgrade, downgrade and managed → BYOK → managed keep the invariant', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    // Past Starter's 3,000 tokens, then an upgrade.
    for (let managed = 0; managed <= ALLOWANCES.starter; managed = ((await rollup(agent.id))?.managedTokens as number) ?? 0) {
      expect((await call(key)).status).to.equal(200);
      await platform.platform.meter.drain();
    }
    expect((await setLlm(agent.id, { mode: 'managed', plan: 'ultra' })).status).to.equal(200);
    for (let index = 0; index < 3; index += 1) expect((await call(key)).status).to.equal(200);
    expect((await setLlm(agent.id, { mode: 'managed', plan: 'starter' })).status).to.equal(200);
    expect((await call(key)).status).to.equal(200);
    expect((await setLlm(agent.id, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-billing-byok-000' })).status).to.equal(200);
    for (let index = 0; index < 2; index += 1) expect((await call(key)).status).to.equal(200);
    expect((await api(platform.url, 'PATCH', `${ws()}/agents/${agent.id}`, { token: owner.token, body: { status: 'paused' } })).status).to.equal(200);
    expect((await api(platform.url, 'PATCH', `${ws()}/agents/${agent.id}`, { token: owner.token, body: { status: 'active' } })).status).to.equal(200);
    expect((await setLlm(agent.id, { mode: 'managed', plan: 'pro' })).status).to.equal(200);
    expect((await call(key)).status).to.equal(200);

    const history = (await api(platform.url, 'GET', `${ws()}/agents/${agent.id}/plan-history`, { token: owner.token })).body as Array<{ kind: string; to: { mode: string; plan: string | null; status: string }; actor: { type: string; userId: string }; at: string }>;
    expect(history.map((entry) => `${entry.kind}:${entry.to.mode}:${entry.to.plan ?? '-'}:${entry.to.status}`).reverse()).to.deep.equal([
      'created:managed:starter:active', 'llm_changed:managed:ultra:active', 'llm_changed:managed:starter:active', 'llm_changed:byok:-:active',
      'paused:byok:-:paused', 'resumed:byok:-:active', 'llm_changed:managed:pro:active',
    ]);
    expect(history.every((entry) => entry.actor.type === 'user' && entry.actor.userId === owner.user.id)).to.equal(true);
    expect(JSON.stringify(history)).to.not.contain('sk-test-billing-byok');

    const { preview } = await checkInvariant(owner);
    const mine = await events(agent.id);
    // Overage already charged is never re-priced: each event keeps the rate of the plan it ran on.
    for (const event of mine.filter((candidate) => candidate.overageTokens > 0)) expect(event.priceTotalMicros).to.equal(event.overageTokens * event.priceSnapshot.overageUsdPerMillion);
    // Starter went past its 3,000 tokens; Ultra's 20,000 covered the next calls; back on Starter every token is overage.
    const byPlan = (await rollup(agent.id))!.byPlan as Record<string, { tokens: number; overageTokens: number }>;
    expect(byPlan.starter!.overageTokens).to.be.greaterThan(0);
    expect(byPlan.ultra!.overageTokens ?? 0).to.equal(0);
    const lastStarter = mine.filter((event) => event.plan === 'starter').at(-1)!;
    expect(lastStarter.overageTokens).to.equal(lastStarter.tokensInput + lastStarter.tokensOutput);
    // BYOK calls use none of the allowance and are priced 0.
    expect(mine.filter((event) => event.mode === 'byok').every((event) => event.priceTotalMicros === 0)).to.equal(true);
    const agentLines = preview.lines.filter((line: { agentId: string }) => line.agentId === agent.id).map((line: { type: string }) => line.type);
    expect(agentLines).to.include.members(['plan_fee', 'byok_time', 'paused_time', 'included_usage', 'overage', 'byok_usage']);
  });

  it('the call that crosses the allowance is split exactly on the plan it ran on; a change right after it prices the next call on the new plan', async () => {
    const user = await registerUser(platform.url);
    const agent = await createAgent(platform.url, user, { mode: 'managed', plan: 'starter' });
    const key = await createAgentApiKey(platform.url, user, agent.id);
    let managedTokens = 0;
    while (managedTokens < ALLOWANCES.starter) {
      expect((await call(key)).status).to.equal(200);
      await platform.platform.meter.drain();
      managedTokens = ((await rollup(agent.id))!.managedTokens as number) ?? 0;
    }
    expect((await setLlm(agent.id, { mode: 'managed', plan: 'pro' }, user)).status).to.equal(200);
    expect((await call(key)).status).to.equal(200);
    await platform.platform.meter.drain();
    const mine = await events(agent.id);
    const crossing = mine.filter((event) => event.plan === 'starter').at(-1)!;
    const crossingTokens = crossing.tokensInput + crossing.tokensOutput;
    expect(crossing.overageTokens).to.equal(managedTokens - ALLOWANCES.starter);
    expect(crossing.overageTokens).to.be.within(1, crossingTokens);
    expect(crossing.priceTotalMicros).to.equal(crossing.overageTokens * 2);
    const onPro = mine.filter((event) => event.plan === 'pro');
    expect(onPro).to.have.length(1);
    expect(onPro[0]!.overageTokens, 'Pro allows 6,000 tokens this month: the next call is included').to.equal(0);
    const { preview } = await checkInvariant(user);
    // Starter's allowance was used up within minutes: its fee is its whole fee (time or use, whichever is more).
    const minimum = preview.lines.find((line: { type: string; agentId: string }) => line.type === 'allowance_minimum' && line.agentId === agent.id);
    expect(minimum, 'allowance minimum line').to.not.equal(undefined);
    const starterFees = preview.lines
      .filter((line: { type: string; description: string }) => (line.type === 'plan_fee' || line.type === 'allowance_minimum') && line.description.startsWith('Starter'))
      .reduce((total: number, line: { amountMicros: number }) => total + line.amountMicros, 0);
    expect(starterFees).to.equal(5_000_000);
  });

  it('calls in flight during a change are billed on the plan they started on, and nothing is lost', async () => {
    const user = await registerUser(platform.url);
    const agent = await createAgent(platform.url, user, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, user, agent.id);
    platform.simulator.faults.script('openai', Array.from({ length: 4 }, () => ({ kind: 'timeout' as const, delayMs: 600 })));
    const calls = Array.from({ length: 4 }, () => call(key, 'hello there'));
    for (const deadline = Date.now() + 10_000; platform.simulator.waitingRequests() < 4 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(platform.simulator.waitingRequests()).to.equal(4);
    expect((await setLlm(agent.id, { mode: 'managed', plan: 'starter' }, user)).status).to.equal(200);
    expect((await Promise.all(calls)).map((response) => response.status)).to.deep.equal([200, 200, 200, 200]);
    platform.simulator.faults.clear('openai');
    expect((await call(key, 'and now?')).status).to.equal(200);
    await platform.platform.meter.drain();
    const mine = await events(agent.id);
    expect(mine.map((event) => event.plan).sort()).to.deep.equal(['pro', 'pro', 'pro', 'pro', 'starter']);
    await checkInvariant(user);
  });

  it('a month closes exactly once with two instances at once; a late event goes to the next statement; a restart re-reads it unchanged', async () => {
    const user = await registerUser(platform.url);
    const agent = await createAgent(platform.url, user, { mode: 'managed', plan: 'starter' });
    const byokAgent = await createAgent(platform.url, user, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-billing-byok-111' });
    const key = await createAgentApiKey(platform.url, user, agent.id);
    const byokKey = await createAgentApiKey(platform.url, user, byokAgent.id);
    // Past the allowance, so a late event of this month is all overage.
    for (let managed = 0; managed <= ALLOWANCES.starter; managed = ((await rollup(agent.id))?.managedTokens as number) ?? 0) {
      expect((await call(key)).status).to.equal(200);
      await platform.platform.meter.drain();
    }
    expect((await call(byokKey)).status).to.equal(200);
    const { preview } = await checkInvariant(user);

    let closedStatement!: StatementDocument;
    const second = await start();
    try {
      const emitted: StatementClosedEvent[] = [];
      platform.platform.statements.events.onStatementClosed((event) => void emitted.push(event));
      second.platform.statements.events.onStatementClosed((event) => void emitted.push(event));
      const now = afterMonth(month);
      const results = await Promise.all([
        platform.platform.statements.close(user.workspace.id, month, now),
        second.platform.statements.close(user.workspace.id, month, now),
        platform.platform.statements.closeDue(now),
        second.platform.statements.closeDue(now),
      ]);
      expect([results[0].closed, results[1].closed].filter(Boolean)).to.have.length.at.most(1);
      expect(await platform.platform.models.Statement.countDocuments({ workspaceId: new Types.ObjectId(user.workspace.id), month })).to.equal(1);
      expect(emitted.filter((event) => event.workspaceId === user.workspace.id)).to.have.length(1);
      expect(results[0].statement._id.toString()).to.equal(results[1].statement._id.toString());
      closedStatement = results[0].statement;
    } finally {
      await second.stop();
    }

    const list = (await api(platform.url, 'GET', `${ws(user)}/statements`, { token: user.token })).body;
    expect(list.map((row: { month: string }) => row.month)).to.deep.equal([month]);
    const closed = (await api(platform.url, 'GET', `${ws(user)}/statements/${month}`, { token: user.token })).body;
    expect(closed.number).to.match(/^AH-\d{6}-[0-9A-F]{8}$/);
    expect(closed.totals.amountDueMicros).to.equal(preview.totals.amountDueMicros);
    expect(closed.agents.map((row: { name: string }) => row.name).sort()).to.deep.equal(['Test agent', 'Test agent']);

    // Customer-facing downloads: agent names and plan-fee lines; never the platform's provider cost, credentials or pools.
    const credentials = (await events(agent.id)).map((event) => event.credential);
    const downloads = await Promise.all(['statement.json', 'statement.csv', 'statement.html'].map((file) => api(platform.url, 'GET', `${ws(user)}/statements/${month}/${file}`, { token: user.token })));
    expect(downloads.map((response) => response.status)).to.deep.equal([200, 200, 200]);
    expect(downloads[0]!.headers.get('content-disposition')).to.contain(`statement-${closed.number}.json`);
    expect(downloads[1]!.text.split('\r\n')[0]).to.equal('statement,month,agent,agentId,line,description,from,to,quantity,unit,unitPriceUsd,amountUsd,providerCostUsdForInformation');
    expect(downloads[1]!.text).to.contain(',plan_fee,"Starter plan, ');
    expect(downloads[2]!.headers.get('content-type')).to.contain('text/html');
    expect(downloads[2]!.text).to.contain('Amount due');
    for (const response of [...downloads, { text: JSON.stringify(closed) }]) {
      for (const credential of credentials) expect(response.text).to.not.contain(credential);
      expect(response.text).to.not.match(/pool:|managedProviderCost|operator/);
    }
    // The operator export (a command, not a route) is where the platform's cost of managed calls shows.
    const operatorCsv = operatorStatementCsv([closedStatement]);
    expect(operatorCsv.split('\r\n')[0]).to.contain('managedProviderCostUsd');
    expect(Number(operatorCsv.trim().split('\r\n').at(-1)!.split(',')[7])).to.be.greaterThan(0);
    const csvTotal = downloads[1]!.text.trim().split('\r\n').at(-1)!.split(',');
    expect(usdMicros(Number(csvTotal[11]))).to.equal(closed.totals.amountDueMicros);

    // A late event of the closed month: the statement does not change; the next one carries an adjustment line.
    platform.platform.meter.record(meterEventFixture({ requestId: `req_late_${agent.id}`, agentId: agent.id, workspaceId: user.workspace.id, plan: 'starter', tokensInput: 400, tokensOutput: 100, priceSnapshot: { inputUsdPerMillion: 0.3, outputUsdPerMillion: 1.2, overageUsdPerMillion: 2, includedTokens: ALLOWANCES.starter } }));
    await platform.platform.meter.drain();
    const reread = (await api(platform.url, 'GET', `${ws(user)}/statements/${month}`, { token: user.token })).body;
    expect(reread).to.deep.equal(closed);
    const following = nextMonth(month);
    const { statement: next } = await platform.platform.statements.close(user.workspace.id, following, afterMonth(following));
    expect(next.adjustments).to.have.length(1);
    expect(next.adjustments[0]).to.include({ month, agentId: agent.id, tokens: 500, overageTokens: 500, amountMicros: 1_000 });
    expect(next.totals.adjustmentsMicros).to.equal(1_000);
    // A third month does not bill the same late event again.
    const third = nextMonth(following);
    const { statement: afterThat } = await platform.platform.statements.close(user.workspace.id, third, afterMonth(third));
    expect(afterThat.adjustments).to.deep.equal([]);

    // Restart: the statement is read back as it was, and closing again changes nothing.
    await platform.stop();
    platform = await start();
    const afterRestart = (await api(platform.url, 'GET', `${ws(user)}/statements/${month}`, { token: user.token })).body;
    expect(afterRestart).to.deep.equal(closed);
    const again = await platform.platform.statements.closeDue(afterMonth(month));
    expect(again.closed).to.equal(0);
    expect(again.alreadyClosed).to.be.greaterThan(0);
  });

  it('statements: owners only, other workspaces 404, bad months 400, an open month 404', async () => {
    const stranger = await registerUser(platform.url);
    expect((await api(platform.url, 'GET', `${ws()}/statements`, { token: stranger.token })).status).to.equal(404);
    expect((await api(platform.url, 'GET', `${ws()}/statements/${month}`, { token: stranger.token })).status).to.equal(404);
    const bad = await api(platform.url, 'GET', `${ws()}/statements/2026-13`, { token: owner.token });
    expect([bad.status, bad.body.error?.code]).to.deep.equal([400, 'INVALID_MONTH']);
    expect((await api(platform.url, 'GET', `${ws()}/statements/1999-01`, { token: owner.token })).status).to.equal(404);
    expect((await api(platform.url, 'GET', `${ws()}/statements/1999-01/statement.csv`, { token: owner.token })).status).to.equal(404);
    expect((await api(platform.url, 'GET', `${ws()}/agents/${new Types.ObjectId().toString()}/plan-history`, { token: owner.token })).status).to.equal(404);
  });
});
