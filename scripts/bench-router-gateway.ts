// The gateway with routing on vs off (#14): Agent Host's CPU per /v1 call for two BYOK agents on the fake provider,
// one without routing and one with a light model and `balanced` routing, measured in alternating rounds on one
// server process (from source through tsx, so both cases pay the same loader). Used by scripts/bench-router.ts.
import fs from 'node:fs';
import { cpuTimeMs, expectStatus, jsonRequest, log, runLoad, sleep, stopAllChildren, installCleanup } from './bench-support';
import { benchDataDir, benchServerEnv, startAgentHost, startBackends } from './bench-stack';
import { createAgent, createAgentKey, registerUser } from './bench-usage';

export interface RouterGatewayResult {
  rounds: Array<{ routing: 'off' | 'on'; calls: number; cpuMsPerCall: number; requestsPerSecond: number }>;
  medianOff: number;
  medianOn: number;
  /** Median over rounds of (on ÷ the off case run next to it) − 1: adjacent cases share the machine's load. */
  medianPairChange: number;
  concurrency: number;
  roundSeconds: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export async function benchRouterGateway(options: { rounds: number; roundSeconds: number; concurrency: number }): Promise<RouterGatewayResult> {
  installCleanup();
  const { storeUri, fakeUrl } = await startBackends();
  const dataDir = benchDataDir('agent-host-router-bench-');
  try {
    // From source in development mode (the server migrates on start), without the Pro plan's pool: its agents are BYOK.
    const { child: agentHost, url } = await startAgentHost({
      env: { ...benchServerEnv({ storeUri, fakeUrl, dataDir }), NODE_ENV: 'development', OPENAI_POOL_KEYS: undefined, LLM_SANDBOX: 'off' },
      command: ['--import', 'tsx', 'server/main.ts'],
    });
    log(`Agent Host ${url} (pid ${agentHost.pid}), fake provider ${fakeUrl}`);
    const owner = await registerUser(url, 'Router bench');
    const byok = { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-fake-bench-router-0123456789abcdef' };
    const offAgent = await createAgent(url, owner, 'Routing off', byok);
    const onAgent = await createAgent(url, owner, 'Routing on', byok);
    const agentPath = `${url}/api/workspaces/${owner.workspaceId}/agents/${onAgent}`;
    await expectStatus(200, 'light model', jsonRequest('PUT', `${agentPath}/llm/light`, { token: owner.token, body: { provider: 'openai', model: 'gpt-4o-mini' } }));
    await expectStatus(200, 'routing', jsonRequest('PUT', `${agentPath}/routing`, { token: owner.token, body: { setting: 'balanced' } }));
    const keys = { off: await createAgentKey(url, owner, offAgent), on: await createAgentKey(url, owner, onAgent) };
    // A realistic FAQ question (routed light when routing is on; the fake answers both the same).
    const body = JSON.stringify({ model: 'agent', messages: [{ role: 'user', content: 'Hi! Do you ship to Canada, and how long does delivery usually take?' }], max_tokens: 16 });
    const load = (which: 'off' | 'on', seconds: number) =>
      runLoad({ url: `${url}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[which]}` }, body, connections: options.concurrency, durationSeconds: seconds });
    for (const which of ['off', 'on', 'off', 'on'] as const) await load(which, 4); // warm-up: JIT, the vault's first opens
    const rounds: RouterGatewayResult['rounds'] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      for (const which of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        await sleep(500);
        const cpuBefore = cpuTimeMs(agentHost.pid!);
        const result = await load(which, options.roundSeconds);
        const cpu = cpuTimeMs(agentHost.pid!) - cpuBefore;
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`routing ${which}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        rounds.push({ routing: which, calls: result.ok, cpuMsPerCall: cpu / result.ok, requestsPerSecond: result.requestsPerSecond });
        log(`routing ${which}: ${result.ok} calls, ${(cpu / result.ok).toFixed(3)} ms CPU per call, ${result.requestsPerSecond.toFixed(0)} req/s`);
      }
    }
    return {
      rounds,
      medianOff: median(rounds.filter((round) => round.routing === 'off').map((round) => round.cpuMsPerCall)),
      medianOn: median(rounds.filter((round) => round.routing === 'on').map((round) => round.cpuMsPerCall)),
      medianPairChange: median(
        Array.from({ length: options.rounds }, (_, round) => {
          const pair = rounds.slice(round * 2, round * 2 + 2);
          const on = pair.find((entry) => entry.routing === 'on')!;
          const off = pair.find((entry) => entry.routing === 'off')!;
          return on.cpuMsPerCall / off.cpuMsPerCall - 1;
        }),
      ),
      concurrency: options.concurrency,
      roundSeconds: options.roundSeconds,
    };
  } finally {
    await stopAllChildren();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
