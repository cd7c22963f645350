import { Agent, fetch as undiciFetch } from 'undici';
import { startProviderSimulator } from './server/llm/simulator';
import { getProviderAdapter } from './server/llm/providers/provider-registry';
import { PROVIDER_IDS } from './server/llm/llm.types';
(async () => {
  const sim = await startProviderSimulator();
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  const f = ((input: any, init: any) => undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
  for (const id of PROVIDER_IDS) {
    const a = getProviderAdapter(id);
    const o = { apiKey: 'sk-x', baseUrl: sim.baseUrls[id], signal: new AbortController().signal, timeoutMs: 2000, fetch: f };
    const r = { model: 'm', messages: [{ role: 'user' as const, content: 'hi there' }] };
    try { const g = await a.generate(r, o); let n = 0; for await (const e of a.stream(r, o)) n++; await a.checkKey(o); console.log(id, 'ok', g.usage.source, n); }
    catch (e: any) { console.log(id, 'ERR', e.kind, e.message); }
  }
  await sim.close(); await dispatcher.close();
})();
