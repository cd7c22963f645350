// A benchmark's own user, agents and agent API keys, made over Agent Host's HTTP API (the same calls a customer makes).
import { expectStatus, jsonRequest } from './bench-support';

export interface BenchUser {
  token: string;
  workspaceId: string;
}

let userCounter = 0;

export async function registerUser(baseUrl: string, name: string): Promise<BenchUser> {
  userCounter += 1;
  const body = await expectStatus(201, 'register', jsonRequest(`POST`, `${baseUrl}/api/auth/register`, {
    body: { email: `bench${userCounter}-${Date.now().toString(36)}@example.com`, password: 'correct horse battery staple', name },
  }));
  return { token: body.token, workspaceId: body.workspace.id };
}

export async function createAgent(baseUrl: string, user: BenchUser, name: string, llm: Record<string, unknown>): Promise<string> {
  const body = await expectStatus(201, 'create agent', jsonRequest('POST', `${baseUrl}/api/workspaces/${user.workspaceId}/agents`, {
    token: user.token,
    body: { name, templateId: 'faq-bot', variables: { businessName: 'Acme & Sons' }, llm },
  }));
  return body.id as string;
}

export async function createAgentKey(baseUrl: string, user: BenchUser, agentId: string): Promise<string> {
  const body = await expectStatus(201, 'create api key', jsonRequest('POST', `${baseUrl}/api/workspaces/${user.workspaceId}/agents/${agentId}/api-keys`, { token: user.token }));
  return body.key as string;
}
