// The API reference: the OpenAPI document at /api/openapi.json and Swagger UI at /docs, served from the installed
// swagger-ui-dist (works offline; no CDN). The page's script is a file of ours, so the CSP needs no inline script.
import path from 'node:path';
import express, { Router } from 'express';
import { openApiDocument } from '../openapi/openapi-document';

const SWAGGER_UI_DIRECTORY = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>API reference · Agent Host</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const DOCS_INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true, presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout', tryItOutEnabled: false });
});
`;

export function createApiDocsRouter(): Router {
  const router = Router();
  router.get('/api/openapi.json', (_request, response) => void response.json(openApiDocument()));
  router.get('/docs', (_request, response) => {
    response.setHeader('Cache-Control', 'no-cache');
    response.type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_request, response) => {
    response.setHeader('Cache-Control', 'no-cache');
    response.type('application/javascript').send(DOCS_INIT);
  });
  router.use('/docs/assets', express.static(SWAGGER_UI_DIRECTORY, { index: false, maxAge: '1d' }));
  return router;
}
