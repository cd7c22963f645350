// The API reference: /api/openapi.json is a valid OpenAPI 3.1 document built from the request schemas, it lists every
// route the server registers (walked from the Express router stack, plus /v1 on node:http), and /docs renders it
// offline from the installed swagger-ui-dist.
import { expect } from 'chai';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform } from '../support/test-platform';
import { HEALTH_STATES } from '../../agents/agent-health';
import { agentSchema, agentWithoutHealthSchema } from '../../server/http/openapi/agent-shapes';
import { API_ROUTES, NOT_API_PATHS } from '../../server/http/openapi/openapi-routes';
import { toOpenApiPath } from '../../server/http/openapi/openapi-document';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  name?: string;
}

/** Every (method, path) the Express app registers, nested routers included. */
function registeredRoutes(stack: Layer[]): Array<{ method: string; path: string }> {
  const found: Array<{ method: string; path: string }> = [];
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        if (typeof path !== 'string') continue;
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') found.push({ method, path });
      }
    } else if (layer.handle?.stack) {
      found.push(...registeredRoutes(layer.handle.stack));
    }
  }
  return found;
}

describe('API reference (OpenAPI 3.1 at /api/openapi.json, /docs)', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let document: any;
  before(async () => {
    platform = await startTestPlatform();
    const response = await api(platform.url, 'GET', '/api/openapi.json');
    expect(response.status).to.equal(200);
    document = response.body;
  });
  after(async () => platform?.stop());

  it('is a valid OpenAPI 3.1 document', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
  });

  it('covers every route the server registers', () => {
    const app = platform.platform.app as unknown as { router: { stack: Layer[] } };
    const registered = registeredRoutes(app.router.stack).filter((route) => route.path.startsWith('/') && !NOT_API_PATHS.includes(route.path) && route.path !== '/*splat');
    expect(registered.length).to.be.greaterThan(30);
    const missing = registered.filter((route) => !document.paths?.[toOpenApiPath(route.path)]?.[route.method]);
    const hint = missing
      .map(
        (route) =>
          `  ${route.method.toUpperCase()} ${route.path} is not in the API reference. Add one line to API_ROUTES in server/http/openapi/openapi-routes.ts:\n` +
          `    { method: '${route.method}', path: '${route.path}', tag: '<group>', summary: '<what it does>', auth: 'user', role: 'viewer', body: <the zod schema the route validates with>, query: <its query schema> },`,
      )
      .join('\n');
    expect(missing, `\n${hint}\n`).to.deep.equal([]);
    // And nothing is documented that the server does not answer (except /v1, served on node:http before Express).
    const known = new Set(registered.map((route) => `${route.method} ${toOpenApiPath(route.path)}`));
    const stale = API_ROUTES.filter((route) => !route.path.startsWith('/v1/') && !known.has(`${route.method} ${toOpenApiPath(route.path)}`)).map((route) => `${route.method} ${route.path}`);
    expect(stale, 'documented in openapi-routes.ts but not registered: remove or fix the entry').to.deep.equal([]);
  });

  it('documents /v1 the way the openai SDK calls it, and request bodies from the validating schemas', async () => {
    const completions = document.paths['/v1/chat/completions'].post;
    expect(completions.security).to.deep.equal([{ agentKey: [] }]);
    const schema = JSON.stringify(completions.requestBody.content['application/json'].schema);
    expect(schema).to.contain('messages');
    const register = JSON.stringify(document.paths['/api/auth/register'].post.requestBody.content['application/json']);
    expect(register).to.contain('password');
    expect(register).to.contain('"minLength":8');
    const activity = document.paths['/api/workspaces/{workspaceId}/activity'].get;
    expect(activity.parameters.map((parameter: { name: string }) => parameter.name)).to.include.members(['workspaceId', 'agentId', 'status', 'apiKeyId', 'endUser', 'from', 'to', 'cursor', 'limit']);
    // The v1 route really answers: the listener serves it before Express.
    expect((await api(platform.url, 'GET', '/v1/models')).status).to.equal(401);
  });

  it('describes the agent answers: health with its states, and every field real answers carry (validated)', async () => {
    const agent = document.components.schemas.Agent;
    expect(agent.required).to.include('health');
    const health = document.components.schemas.AgentHealth;
    expect(agent.properties.health).to.deep.equal({ $ref: '#/components/schemas/AgentHealth' });
    expect(health.properties.state.enum).to.deep.equal([...HEALTH_STATES]);
    expect(health.properties.state.enum).to.include.members(['active', 'sandbox', 'paused', 'key_rejected', 'cap_reached', 'provider_down']);
    expect(health.required).to.include.members(['state', 'label', 'message', 'canRun', 'fix']);
    const ws = '/api/workspaces/{workspaceId}/agents';
    for (const [path, method] of [[ws, 'get'], [ws, 'post'], [`${ws}/{agentId}`, 'get'], [`${ws}/{agentId}`, 'patch'], [`${ws}/{agentId}/llm`, 'put']] as const) {
      expect(JSON.stringify(document.paths[path][method].responses[method === 'post' ? '201' : '200'].content['application/json'].schema), `${method} ${path}`).to.contain('#/components/schemas/Agent"');
    }
    // Real answers (managed, BYOK with a light model, paused) parse with the strict zod shapes the document is built
    // from (no undescribed field allowed): an answer that gains a field the document does not describe fails here.
    const validAgent = (answer: unknown) => agentSchema.safeParse(answer);
    const owner = await registerUser(platform.url, 'Shape Owner');
    const base = `/api/workspaces/${owner.workspace.id}/agents`;
    const managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-sandbox-demo' });
    const light = await api(platform.url, 'PUT', `${base}/${byok.id}/llm/light`, { token: owner.token, body: { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-sandbox-demo' } });
    expect(light.status, light.text).to.equal(200);
    const paused = await api(platform.url, 'PATCH', `${base}/${managed.id}`, { token: owner.token, body: { status: 'paused' } });
    expect(paused.status, paused.text).to.equal(200);
    const list = await api(platform.url, 'GET', base, { token: owner.token });
    const one = await api(platform.url, 'GET', `${base}/${byok.id}`, { token: owner.token });
    const answers = [managed, byok, paused.body, one.body, ...list.body];
    expect(list.body).to.have.length(2);
    expect(one.body.llm.light).to.be.an('object');
    expect(answers.map((answer: { health: { state: string } }) => answer.health.state)).to.include('paused');
    for (const answer of answers) {
      const parsed = validAgent(answer);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
    }
    const setting = agentWithoutHealthSchema.safeParse(light.body);
    expect(setting.success, JSON.stringify(setting.error?.issues)).to.equal(true);
    // The check can fail: an undescribed field, or a health state outside the list, is refused.
    expect(validAgent({ ...one.body, surprise: 1 }).success).to.equal(false);
    expect(validAgent({ ...one.body, health: { ...one.body.health, state: 'melting' } }).success).to.equal(false);
  });

  it('renders at /docs from local files (no CDN), within the content security policy', async () => {
    const page = await api(platform.url, 'GET', '/docs');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('/docs/assets/swagger-ui-bundle.js');
    expect(page.text).to.not.match(/https?:\/\//);
    expect(page.text).to.not.match(/<script>(?!<\/script>)/);
    const bundle = await fetch(`${platform.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).to.equal(200);
    expect((await bundle.text()).length).to.be.greaterThan(100_000);
    expect((await fetch(`${platform.url}/docs/init.js`)).status).to.equal(200);
    expect(page.headers.get('content-security-policy')).to.contain("default-src 'self'");
  });
});
