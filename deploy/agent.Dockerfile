# syntax=docker/dockerfile:1
# The agent (`stavily-agent`): built from this repository, installed from its own packed
# tarballs (what `npm install -g @stavily/agent` gives), run as a non-root user.
#   docker build -f deploy/agent.Dockerfile -t stavily-agent .
#   docker run -v stavily-agent:/var/lib/stavily-agent \
#     -e STAVILY_ORCHESTRATOR_URL=http://orchestrator:8080 -e STAVILY_ENROLLMENT_TOKEN=stv_enroll_… stavily-agent
# Stop it with a timeout above its shutdown grace (docker stop -t 45).

# 1. Build every package and pack the ones the agent installs.
FROM node:22-bookworm AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && mkdir /packs \
 && npm pack --pack-destination /packs -w @stavily/sdk -w @stavily/protocol -w @stavily/registry -w @stavily/agent

# 2. Install from the tarballs into /opt/stavily: isolated-vm is native (a prebuilt binary,
# or compiled with the build tools this image has and the runtime image does not).
FROM node:22-bookworm AS install
COPY --from=build /packs /packs
RUN mkdir -p /opt/stavily \
 && cd /opt/stavily \
 && echo '{"name":"stavily-agent-install","private":true}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /packs/*.tgz

# 3. Runtime: glibc (isolated-vm's binaries), tini, no build tools.
FROM node:22-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/stavily-agent --create-home --shell /usr/sbin/nologin stavily \
 && chmod 0700 /var/lib/stavily-agent
COPY --from=install /opt/stavily /opt/stavily
ENV NODE_ENV=production \
    STAVILY_DATA_DIR=/var/lib/stavily-agent \
    STAVILY_HEALTH_LISTEN=127.0.0.1:9464
USER stavily
WORKDIR /var/lib/stavily-agent
VOLUME ["/var/lib/stavily-agent"]
# The health listener is on loopback for the HEALTHCHECK below; set
# STAVILY_HEALTH_LISTEN=0.0.0.0:9464 and publish the port for Prometheus to scrape /metrics.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://'+process.env.STAVILY_HEALTH_LISTEN+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --no-node-snapshot: isolated-vm needs it in any process that loads it (the agent starts its
# sandbox host child with it too); --max-semi-space-size=1 as the bin's own #! line does.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--no-node-snapshot", "--max-semi-space-size=1", "/opt/stavily/node_modules/@stavily/agent/bin/stavily-agent.js"]
STOPSIGNAL SIGTERM
