// Root hooks: after the whole suite, the canary provider key must appear in no response body and no log line.
import { expect } from 'chai';
import { CANARY_PROVIDER_KEY, capturedLogLines, capturedResponseBodies } from './test-platform';

export const mochaHooks = {
  afterAll() {
    const leakedInLogs = capturedLogLines.filter((line) => line.includes(CANARY_PROVIDER_KEY) || line.includes(CANARY_PROVIDER_KEY.slice(3, 20)));
    const leakedInBodies = capturedResponseBodies.filter((body) => body.includes(CANARY_PROVIDER_KEY) || body.includes(CANARY_PROVIDER_KEY.slice(3, 20)));
    expect(leakedInLogs, 'canary key found in log lines').to.deep.equal([]);
    expect(leakedInBodies, 'canary key found in response bodies').to.deep.equal([]);
  },
};
