# The WeCom directory GraphQL service (and, with another command, the WeCom emulator).
#   docker build -t wecom-directory .
#   docker run --rm -p 4000:4000 -e WECOM_CORP_ID=… -e WECOM_CONTACT_SECRET=… -e API_KEYS=… wecom-directory
# TypeScript runs through tsx (a runtime dependency), so there is no build step.
FROM node:20-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app

# Dependencies first: this layer is rebuilt only when package.json or the lock file changes.
# `npm install` (as .ci/run does) rather than `npm ci`: the lock file leaves out some optional
# platform packages of dev tools, which `npm ci` refuses; versions still come from the lock.
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src

# Never as root.
USER node
EXPOSE 4000

# Ready when WeCom (or the emulator) answers and, with REDIS_URL, Redis too; 503 while shutting down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node is PID 1 and handles SIGTERM itself (graceful shutdown: src/ops/shutdown.ts).
CMD ["node", "--import", "tsx", "src/main.ts"]
