import { describe, expect, it } from "vitest";
import { useHarness } from "../../test/helpers/harness.js";

/** CONTRACT §6: `/docs` loads nothing from another host, and works under its own CSP. */
describe("/docs", () => {
  const harness = useHarness({}, { role: "api" });

  it("is served whole from this origin, under a policy that allows no other", async () => {
    const { url } = harness().service;
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    const policy = page.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toMatch(/https?:/);
    const html = await page.text();
    expect(html).not.toMatch(/(?:src|href)=["'](?:https?:)?\/\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script: the policy forbids it
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toEqual(
      expect.arrayContaining(["/docs/assets/swagger-ui-bundle.js", "/docs/assets/init.js"]),
    );
    for (const asset of assets) {
      const response = await fetch(new URL(asset, url));
      expect(response.status, asset).toBe(200);
      const body = await response.text();
      if (asset.endsWith(".js")) {
        expect(response.headers.get("content-type")).toMatch(/^text\/javascript/);
        expect(body).toMatch(/SwaggerUIBundle/);
      }
    }
    // The page's script asks for the document from this origin.
    const init = await (await fetch(`${url}/docs/assets/init.js`)).text();
    expect(init).toContain('url: "/openapi.json"');
    expect((await fetch(`${url}/docs/assets/nope.js`)).status).toBe(404);
  });
});
