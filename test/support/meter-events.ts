// A plain successful managed meter event (Pro, gpt-4o-mini prices) for tests that drive the meter directly.
import type { MeterEventInput } from '../../server/metering/meter.types';

export function meterEventFixture(fields: Pick<MeterEventInput, 'requestId' | 'agentId' | 'workspaceId'> & Partial<MeterEventInput>): MeterEventInput {
  return {
    timestamp: new Date(),
    provider: 'openai',
    model: 'gpt-4o-mini',
    tier: 'standard',
    mode: 'managed',
    plan: 'pro',
    requestType: 'chat',
    status: 'ok',
    usageSource: 'provider',
    tokensInput: 10,
    tokensOutput: 5,
    latencyMs: 3,
    credential: 'pool:openai:0',
    sandbox: true,
    attempt: 1,
    priceSnapshot: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, overageUsdPerMillion: 3, includedTokens: 1_000_000 },
    countsAsRequest: true,
    ...fields,
  };
}
