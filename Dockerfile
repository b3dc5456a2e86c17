# Multi-stage: build with every dependency, run with production dependencies only, as non-root.
# Node 24, the current LTS, in both stages (the code keeps Node 20 as its floor, package.json's
# engines; .ci/run runs the end-to-end tests on 24 as well, so what ships is what is tested).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's postinstall applies these fixes to dependencies (patch-package).
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The console's page (CONTRACT §9): hand-written files, no build step; served from ../console
# relative to dist/console/routes.js.
COPY console ./console
# Migrations are applied at start-up (under an advisory lock), so they ship with the image.
COPY drizzle ./drizzle
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
