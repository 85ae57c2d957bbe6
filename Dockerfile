# The WeCom directory GraphQL service (and, with another command, the WeCom emulator).
#   docker build -t wecom-directory .
#   docker run --rm -p 4000:4000 -e WECOM_CORP_ID=… -e WECOM_CONTACT_SECRET=… -e API_KEYS=… wecom-directory
# Two stages: TypeScript is compiled by tsc in the first; the image holds only the compiled dist/
# folders, the org explorer's build and the production dependencies (no tsx, no esbuild, no sources).

FROM node:24-slim AS build
WORKDIR /app
# Dependencies first: this layer is rebuilt only when a package.json or the lock file changes.
COPY package.json package-lock.json ./
COPY packages/wecom-protocol/package.json packages/wecom-protocol/
COPY packages/wecom-emulator/package.json packages/wecom-emulator/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.base.json tsconfig.build.json codegen.ts schema.graphql ./
COPY packages ./packages
COPY src ./src
COPY examples ./examples
COPY web ./web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
# The old-generation cap also sets how far V8 lets the heap grow past its live data before a full
# collection: below 2 GB it grows 1.3–2× instead of 4×. 1 GB holds a 200,000-member corp with
# room to spare. The young generation's semi-spaces (16 MB each by default, resident once used)
# are halved: 17 MB less RSS for about 25 % more GC pause time (docs/operations-scale.md#the-heap-cap).
# The benchmark runs the service with this line.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    NODE_OPTIONS="--max-old-space-size=1024 --max-semi-space-size=8"
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/examples/*.graphql ./examples/
COPY --from=build /app/packages/wecom-protocol/package.json ./packages/wecom-protocol/
COPY --from=build /app/packages/wecom-protocol/dist ./packages/wecom-protocol/dist
COPY --from=build /app/packages/wecom-emulator/package.json ./packages/wecom-emulator/
COPY --from=build /app/packages/wecom-emulator/dist ./packages/wecom-emulator/dist
COPY --from=build /app/packages/wecom-emulator/bin ./packages/wecom-emulator/bin

# Never as root.
USER node
EXPOSE 4000

# Ready when WeCom (or the emulator) answers and, with REDIS_URL, Redis too; 503 while shutting down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node is PID 1 and handles SIGTERM itself (graceful shutdown: src/ops/shutdown.ts).
CMD ["node", "--enable-source-maps", "dist/main.js"]
