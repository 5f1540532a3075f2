// GET /docs: Swagger UI (FastAPI's /docs, which users of the original server
// link to) over our own /openapi.json. swagger-ui-bundle.js is served from our
// assets and loaded by docs.html before this module runs.

interface SwaggerUIBundleFunction {
  (options: { url: string; dom_id: string; deepLinking: boolean; presets: unknown[]; layout: string }): unknown;
  presets: { apis: unknown };
}

declare global {
  interface Window {
    SwaggerUIBundle?: SwaggerUIBundleFunction;
  }
}

const SwaggerUIBundle = window.SwaggerUIBundle;
if (SwaggerUIBundle) {
  SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
} else {
  document.body.textContent = "The API documentation viewer failed to load; the document itself is at /openapi.json.";
}

export {};
