// Statement renderings: the lines add up, agent names cannot inject markup or spreadsheet formulas, and no operator
// figure reaches a customer rendering.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { statementCsv, statementHtml, statementJson, statementLines } from '../../server/metering/billing/statement-views';
import type { StatementDocument } from '../../server/metering/billing/statement.models';

const statement: StatementDocument = {
  _id: new Types.ObjectId(),
  workspaceId: new Types.ObjectId(),
  month: '2026-11',
  number: 'AH-202611-0A1B2C3D',
  closedAt: new Date('2026-12-01T00:10:00Z'),
  currency: 'USD',
  agents: [
    {
      agentId: 'a1',
      name: '<img src=x onerror=alert(1)>',
      segments: [
        { kind: 'plan', plan: 'starter', planName: 'Starter', from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-16T00:00:00Z'), feeMicros: 2_500_000 },
        { kind: 'plan', plan: 'ultra', planName: 'Ultra', from: new Date('2026-11-16T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), feeMicros: 10_000_000 },
      ],
      allowanceMinimums: [{ plan: 'starter', planName: 'Starter', includedUsedTokens: 2_000_000, includedTokens: 2_000_000, minimumMicros: 5_000_000, segmentFeesMicros: 2_500_000, topUpMicros: 2_500_000 }],
      planUsage: [{ plan: 'starter', planName: 'Starter', tokens: 2_161_092, includedUsedTokens: 2_000_000, overageTokens: 161_092, overageMicros: 322_184, overageUsdPerMillion: 2 }],
      otherOverageMicros: 0,
      byok: { tokens: 0, providerCostMicros: 0 },
      planFeesMicros: 15_000_000,
      overageMicros: 322_184,
      amountDueMicros: 15_322_184,
    },
    {
      agentId: 'a2',
      name: '=HYPERLINK("http://evil.example")',
      segments: [{ kind: 'byok', plan: null, planName: null, from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), feeMicros: 0 }],
      allowanceMinimums: [],
      planUsage: [],
      otherOverageMicros: 0,
      byok: { tokens: 1_000, providerCostMicros: 450 },
      planFeesMicros: 0,
      overageMicros: 0,
      amountDueMicros: 0,
    },
  ],
  adjustments: [{ month: '2026-10', agentId: 'a1', name: 'Support', description: 'Usage of 2026-10 recorded after statement AH-202610-0A1B2C3D closed', tokens: 500, overageTokens: 500, amountMicros: 1_000 }],
  totals: { planFeesMicros: 15_000_000, overageMicros: 322_184, adjustmentsMicros: 1_000, amountDueMicros: 15_323_184, byokProviderCostMicros: 450 },
  operator: { managedProviderCostMicros: 987_654, byAgent: [{ agentId: 'a1', managedProviderCostMicros: 987_654 }] },
};

describe('statement renderings', () => {
  it('the lines add up to the amount due', () => {
    expect(statementLines(statement).reduce((total, line) => total + line.amountMicros, 0)).to.equal(statement.totals.amountDueMicros);
    expect(statementJson(statement).totals.amountDueUsd).to.equal(15.323184);
  });

  it('escapes agent names in the printable page and neutralizes formulas in the CSV', () => {
    const html = statementHtml(statement, 'Acme & <Sons>');
    expect(html).to.contain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).to.not.contain('<img');
    expect(html).to.contain('Acme &amp; &lt;Sons&gt;');
    expect(html).to.not.match(/<script/i);
    const csv = statementCsv(statement);
    expect(csv).to.contain(`"'=HYPERLINK(""http://evil.example"")"`);
    expect(csv.trim().split('\r\n').at(-1)).to.equal('AH-202611-0A1B2C3D,2026-11,,,total,Amount due,,,,,,15.323184,');
  });

  it('never shows the operator figures', () => {
    for (const text of [statementHtml(statement, 'W'), statementCsv(statement), JSON.stringify(statementJson(statement))]) {
      expect(text).to.not.contain('987654');
      expect(text).to.not.contain('0.987654');
      expect(text).to.not.contain('operator');
    }
  });
});
