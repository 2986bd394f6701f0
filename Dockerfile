# One image for every facesets service; the compose file picks the process with `command`.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    MODEL_DIR=/app/models

# Dependencies first (cached while only sources change). npm ci's postinstall extracts and verifies the
# model pack from the npm registry and builds the review page, so nothing downloads at run time.
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/cli/package.json packages/cli/
COPY services/api/package.json services/api/
COPY services/embed-worker/package.json services/embed-worker/
COPY services/cluster-worker/package.json services/cluster-worker/
COPY scripts/fetch-models.mjs scripts/
COPY packages/shared/src/models/model-pack.json packages/shared/src/models/
# The review page is bundled by the same postinstall (esbuild), so its sources come before npm ci.
COPY packages/ui packages/ui/
# The image's npm 10 ignores package.json's allowScripts: the variable onnxruntime-node's installer reads keeps it
# from fetching CUDA binaries from outside the npm registry (npm 11 does not run that script at all).
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .
RUN npm run models && mkdir -p /data && chown node:node /data

USER node
EXPOSE 8080
# TypeScript runs through tsx (no build step); node is PID 1's child via the compose `init: true`.
CMD ["node", "--import", "tsx", "services/api/src/main.ts"]
