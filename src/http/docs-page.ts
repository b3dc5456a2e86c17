import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Hono } from "hono";

/**
 * `/docs`: Swagger UI over `/openapi.json`, served from this process (swagger-ui-dist's own
 * files), so it renders without internet and under a Content-Security-Policy that allows this
 * origin only. The assets are read once, on the first request for them.
 */
const DIST = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const ASSETS: Record<string, { file: string; type: string }> = {
  "swagger-ui.css": { file: "swagger-ui.css", type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { file: "swagger-ui-bundle.js", type: "text/javascript; charset=utf-8" },
  "favicon-32x32.png": { file: "favicon-32x32.png", type: "image/png" },
};

/** Swagger UI starts from a file of ours: the policy below allows no inline script. */
const INIT = `window.onload = () => {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
};
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width">
  <title>seam-projector API</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

/** Swagger UI sets inline styles on its elements, and shows the schema's example images. */
const POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();
const read = (file: string) => {
  let bytes = cache.get(file);
  if (bytes === undefined) {
    bytes = readFileSync(path.join(DIST, file));
    cache.set(file, bytes);
  }
  return bytes;
};

export const mountDocsPage = (router: Pick<Hono, "get">) => {
  router.get("/docs", (c) => {
    c.header("Content-Security-Policy", POLICY);
    return c.html(PAGE);
  });
  router.get("/docs/assets/init.js", (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    return c.body(INIT);
  });
  router.get("/docs/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (asset === undefined) return c.notFound();
    c.header("Content-Type", asset.type);
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(new Uint8Array(read(asset.file)));
  });
};
