// Builds the OpenAPI 3.1 document from API_ROUTES (zod-openapi), once per process.
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { API_ROUTES, type ApiRoute } from './openapi-routes';
import { errorResponseSchema } from './openapi-shapes';

/** /api/workspaces/:workspaceId → /api/workspaces/{workspaceId} */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function pathParams(expressPath: string): z.ZodObject | undefined {
  const names = [...expressPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((name) => [name, z.string()])));
}

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Invalid input (VALIDATION_FAILED and other stable codes)',
  '401': 'Missing or invalid credentials',
  '403': 'Your role does not allow this',
  '404': 'Not found (also: another workspace’s resource)',
};

function operation(route: ApiRoute): ZodOpenApiOperationObject {
  const status = String(route.status ?? 200);
  const success =
    status === '204'
      ? { description: 'Done (no content)' }
      : route.produces
        ? { description: 'OK', content: { [route.produces]: { schema: z.string() } } }
        : { description: 'OK', content: { 'application/json': { schema: route.response ?? z.unknown() } } };
  const errors = Object.fromEntries(
    Object.entries(ERROR_STATUSES)
      .filter(([code]) => (code === '401' ? route.auth !== 'none' : code === '403' ? Boolean(route.role) : true))
      .map(([code, description]) => [code, { description, content: { 'application/json': { schema: errorResponseSchema } } }]),
  );
  const params = pathParams(route.path);
  const description = [route.description, route.role ? `Needs the workspace role **${route.role}** or higher.` : undefined].filter(Boolean).join('\n\n');
  return {
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: [route.tag],
    ...(route.auth === 'user' ? { security: [{ userToken: [] }] } : route.auth === 'agentKey' ? { security: [{ agentKey: [] }] } : { security: [] }),
    ...(params || route.query ? { requestParams: { ...(params ? { path: params } : {}), ...(route.query ? { query: route.query } : {}) } } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: { [status]: success, ...errors },
  };
}

let built: ReturnType<typeof createDocument> | undefined;

export function openApiDocument(): ReturnType<typeof createDocument> {
  if (built) return built;
  const paths: ZodOpenApiPathsObject = {};
  for (const route of API_ROUTES) {
    const key = toOpenApiPath(route.path);
    paths[key] = { ...paths[key], [route.method]: operation(route) };
  }
  built = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Agent Host API',
      version: '1',
      description:
        'Host AI agents: accounts and workspaces, agents with a managed plan or your own key, named agent API keys, usage, the activity log, invites, and an OpenAI-compatible `/v1`. Money is in US dollars; every error has a stable `code`.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(API_ROUTES.map((route) => route.tag))].map((name) => ({ name })),
    components: {
      securitySchemes: {
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The `token` from /api/auth/register or /api/auth/login' },
        agentKey: { type: 'http', scheme: 'bearer', description: "An agent API key (`ak_…`), created on the agent's API access tab" },
      },
    },
    paths,
  });
  return built;
}
