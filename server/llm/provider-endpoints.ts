// Temporary: agents/agent-runner.ts still imports the default base URLs from here. Each provider's folder now
// declares its own (defaultBaseUrl); import DEFAULT_PROVIDER_BASE_URLS from ./providers/provider-registry.
export { DEFAULT_PROVIDER_BASE_URLS } from './providers/provider-registry';
