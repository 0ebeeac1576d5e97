# syntax=docker/dockerfile:1.7
# One image for every role: `ledgerhub <role>` (worker, forwarder, api, operator, sweep, retention,
# export, verify, migrate). TypeScript is compiled to JavaScript in a build stage (no type stripping at
# run time: less memory per thread); only production dependencies ship; the process runs as an
# unprivileged user on a read-only root.

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# dev dependencies for the compiler; install scripts are skipped (the image's Node 24 runs the build)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY cli ./cli
COPY ledger ./ledger
COPY worker ./worker
COPY forwarder ./forwarder
COPY api ./api
COPY operator ./operator
# only so the dev-only modules type-check; they are removed from the output below
COPY test/support ./test/support
RUN node scripts/build.ts && rm -rf dist/test

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Keep in step with ledger/runtime/node-options.ts (a test checks): memory caps and two malloc arenas
# (reasons and measurements there; the operator adds per-role node flags).
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=128"
WORKDIR /app
RUN groupadd --system --gid 10001 ledgerhub \
 && useradd --system --uid 10001 --gid ledgerhub --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ledgerhub
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY crds ./crds
RUN chmod 0755 /app/dist/cli/ledgerhub.js \
 && ln -s /app/dist/cli/ledgerhub.js /usr/local/bin/ledgerhub \
 # every command module must load from what the image holds (no dev dependencies, no test code)
 && ledgerhub --help > /dev/null
USER 10001:10001
EXPOSE 8080 8081 9090 9091
ENTRYPOINT ["ledgerhub"]
CMD ["--help"]
