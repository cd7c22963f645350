// Meter and usage, the parts of `npm run bench` (scripts/bench.ts) that write the "meter and usage" section: the
// workspace usage query (bench-usage-query.ts), the sustained meter pipeline (bench-meter-pipeline.ts) and metered
// call → `usage:update` latency (bench-live-updates.ts). The HTTP setup they share is bench-http-setup.ts (also
// re-exported here for the benchmarks that import it from this file).
export { benchUsageQuery, type UsageQueryResult } from './bench-usage-query';
export { benchMeterPipeline, type MeterPipelineResult } from './bench-meter-pipeline';
export { benchLiveUpdates, type LiveLatencyResult } from './bench-live-updates';
export { createAgent, createAgentKey, registerUser, type BenchUser } from './bench-http-setup';
