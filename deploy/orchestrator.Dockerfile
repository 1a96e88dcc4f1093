# syntax=docker/dockerfile:1
# The orchestrator (`stavily server`): built from this repository, installed from its own
# packed tarballs (what `npm install -g @stavily/core` gives), run as a non-root user.
#   docker build -f deploy/orchestrator.Dockerfile -t stavily-orchestrator .
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://… -v stavily:/var/lib/stavily stavily-orchestrator
# Without DATABASE_URL it runs on PGlite in /var/lib/stavily (mount it as a volume).

# 1. Build every package and pack the ones the orchestrator installs.
FROM node:22-bookworm AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && mkdir /packs \
 && npm pack --pack-destination /packs -w @stavily/sdk -w @stavily/protocol -w @stavily/registry -w @stavily/dashboard -w @stavily/core

# 2. Install from the tarballs into /opt/stavily (native and platform packages resolve here,
# where the compilers are; the runtime image has none).
FROM node:22-bookworm AS install
COPY --from=build /packs /packs
RUN mkdir -p /opt/stavily \
 && cd /opt/stavily \
 && echo '{"name":"stavily-orchestrator-install","private":true}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /packs/*.tgz

# 3. Runtime: node, git (the registry clones plugin repositories), tini, no build tools.
FROM node:22-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends git tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/stavily --create-home --shell /usr/sbin/nologin stavily
COPY --from=install /opt/stavily /opt/stavily
ENV PATH=/opt/stavily/node_modules/.bin:$PATH \
    NODE_ENV=production \
    STAVILY_HOST=0.0.0.0 \
    STAVILY_PORT=8080 \
    STAVILY_DATA_DIR=/var/lib/stavily
USER stavily
WORKDIR /var/lib/stavily
VOLUME ["/var/lib/stavily"]
EXPOSE 8080
# /healthz answers while the process runs; /readyz (database, shutting down) suits a load
# balancer better than a restart policy.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.STAVILY_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini forwards SIGTERM (the graceful shutdown) and reaps the registry's build children.
ENTRYPOINT ["/usr/bin/tini", "--", "stavily"]
CMD ["server"]
STOPSIGNAL SIGTERM
