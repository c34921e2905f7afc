# One image per service, chosen with a build argument:
#   docker build --build-arg SERVICE=order-service -t dispatch/order-service .
# SERVICE is one of query-api, order-service, payment-service, inventory-service, delivery-service,
# webhook-service.
#
# The services are compiled JavaScript (tools/build: `tsc -b` with source maps, SQL migrations
# copied next to the code). So the image ships, for one service: its dist/ (with its migrations),
# the dist/ of the workspace packages it uses (with packages/platform/migrations next to it), and
# production dependencies only (pnpm deploy --prod). No TypeScript, tsx or dev dependencies.
# tools/deploy-check checks that the versions below match package.json and .node-version, and the
# layer order (dependencies before the source, SERVICE only after the shared layers).
#
# The base is the official Node image (a registry), or any image with node and npm on PATH:
# `./dispatch images` builds one from Debian with debootstrap and passes it as NODE_IMAGE
# (podman build, no registry; docs/deploy.md "Images"). No BuildKit-only syntax: docker, buildah
# and podman build it alike.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=10.34.9
RUN npm install --global "pnpm@${PNPM_VERSION}"
ENV CI=true
WORKDIR /repo
# The dependency layer: the manifests of every workspace project, the lockfile and the patches, then
# every dependency (dev ones too: the build needs typescript and tsx). It changes only with them,
# and it is the same for every service (SERVICE is declared below it).
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY patches/ patches/
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY packages/testkit/package.json packages/testkit/
COPY services/query-api/package.json services/query-api/
COPY services/order-service/package.json services/order-service/
COPY services/payment-service/package.json services/payment-service/
COPY services/inventory-service/package.json services/inventory-service/
COPY services/delivery-service/package.json services/delivery-service/
COPY services/webhook-service/package.json services/webhook-service/
COPY tools/package.json tools/
COPY tests/e2e/package.json tests/e2e/
RUN pnpm install --frozen-lockfile
# The source (.dockerignore keeps node_modules out, so the layer above stays as it is).
COPY . .
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<service name>" >&2; exit 1; }
RUN test -f "services/${SERVICE}/src/main.ts" || { echo "no service named ${SERVICE}" >&2; exit 1; }
# The service and the packages it references, to their dist/.
RUN pnpm build "services/${SERVICE}"
# --legacy: copy workspace packages as they are instead of requiring inject-workspace-packages.
RUN pnpm --filter "@dispatch/${SERVICE}" deploy --prod --legacy /out

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE}
WORKDIR /app
# Owned by root and only readable by the service user: the code cannot be changed at run time.
COPY --from=build /out ./
# The node image's unprivileged user (the local base has the same), numeric so Kubernetes'
# runAsNonRoot can verify it. Nothing is written below / at run time: the containers run with a
# read-only root filesystem and a writable /tmp.
USER 1000:1000
# No curl in the image: node's fetch asks the service's liveness endpoint on $PORT (or the
# service's default port when PORT is not set).
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "const d={'query-api':8080,'order-service':8081,'payment-service':8082,'inventory-service':8083,'delivery-service':8084,'webhook-service':8085};const p=process.env.PORT||d[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The services drain consumers, HTTP and the outbox on SIGTERM (SHUTDOWN_TIMEOUT_MS, default 20 s).
STOPSIGNAL SIGTERM
# Source maps on: stack traces name the .ts files and lines.
CMD ["node", "--enable-source-maps", "dist/main.js"]
