# syntax=docker/dockerfile:1
# The IM cluster on the production build: one image for every process (API, gateway, mail worker,
# migrations); compose.yaml picks the command. Build: docker build -t im-cluster .

# Stage 1: the full install (TypeScript, esbuild, the Prisma CLI) builds the bundles, then
# `npm ci --omit=dev` leaves only what production runs, as an operator's install would.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
 && npm run build \
 && npm ci --omit=dev --no-audit --no-fund \
 && rm -rf packages/db/src/generated

# Stage 2: plain node on the bundles, as an unprivileged user; nothing to compile at start.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    BIND_HOST=0.0.0.0 \
    UPLOAD_ROOT=/data/uploads \
    MAIL_OUTBOX_DIR=/data/outbox
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /data/uploads /data/outbox && chown -R node:node /data
VOLUME /data
USER node
# API (system.api_port), gateway (gateway.port), mail worker (worker.port).
EXPOSE 8090 8101 8095
CMD ["node", "--enable-source-maps", "apps/api/dist/index.js"]
