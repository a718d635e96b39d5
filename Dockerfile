# syntax=docker/dockerfile:1
# The k8s-trace-sim image: the CLI and nothing else. `docker run IMAGE up`
# runs the whole simulator in one container; docker-compose.yaml runs one
# container per process.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# Dependencies in their own layer, rebuilt only when the lockfile changes.
# --ignore-scripts: the `prepare` script would run tsc before the sources are here.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY bin bin
COPY shared shared
COPY etcd-sim etcd-sim
COPY runtime runtime
COPY apiserver apiserver
COPY webhook webhook
COPY scheduler scheduler
COPY kubelet kubelet
COPY cli cli
COPY bench bench
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20.20.2-bookworm-slim
WORKDIR /app
# A 2 MiB young generation, as `up` gives its children: it saves most of each
# process's resting memory at the same throughput (cli/src/supervisor.ts).
ENV NODE_OPTIONS=--max-semi-space-size=2
# Mount points of docker-compose.yaml's volumes, owned by the user the
# processes run as: a new named volume takes its mount point's owner.
RUN mkdir -p /etc/kubernetes /var/lib/etcd /run/containerd /var/lib/k8s-trace-sim \
 && chown node:node /etc/kubernetes /var/lib/etcd /run/containerd /var/lib/k8s-trace-sim
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/bin bin
COPY --from=build /app/dist dist
# The OTLP and CRI protos are read at run time (shared/src/proto.ts).
COPY --from=build /app/shared/proto shared/proto
USER node
ENTRYPOINT ["node", "bin/k8s-trace-sim.js"]
CMD ["--help"]
