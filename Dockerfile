# syntax=docker/dockerfile:1.7
# One image for every role: `ledgerhub <role>` (worker, forwarder, api, operator, sweep, retention,
# export, verify, migrate). Node 24 runs the TypeScript sources directly (type stripping); only
# production dependencies are installed; the process runs as an unprivileged user on a read-only root.

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
RUN groupadd --system --gid 10001 ledgerhub \
 && useradd --system --uid 10001 --gid ledgerhub --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ledgerhub
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY cli ./cli
COPY ledger ./ledger
COPY worker ./worker
COPY forwarder ./forwarder
COPY api ./api
COPY operator ./operator
COPY crds ./crds
RUN chmod 0755 /app/cli/ledgerhub.ts \
 && ln -s /app/cli/ledgerhub.ts /usr/local/bin/ledgerhub \
 # every command module must load from what the image holds (no dev dependencies, no test code)
 && ledgerhub --help > /dev/null
USER 10001:10001
EXPOSE 8080 8081 9090 9091
ENTRYPOINT ["ledgerhub"]
CMD ["--help"]
