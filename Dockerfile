# Multi-stage build: compile TypeScript with dev dependencies, ship only runtime dependencies and assets.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY smart-app ./smart-app
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/var/lib/pgx-dosing
# A heap limit makes V8 collect before committing memory it does not need: RSS stays flat under load, ~250 MB instead of
# ~360 MB (docs/performance.md); well under the pod's 512 Mi limit, which leaves room for onnxruntime's native memory.
ENV NODE_OPTIONS="--max-old-space-size=256"
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY cards ./cards
COPY knowledge ./knowledge
COPY models ./models
# DATA_DIR holds the SQLite file (single-replica default) and the audit spool used while PostgreSQL is unreachable.
# Retention and analytics run from the same image: node dist/src/cli/purge.js | node dist/src/cli/report.js [--csv]
RUN mkdir -p /var/lib/pgx-dosing && chown node:node /var/lib/pgx-dosing
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
