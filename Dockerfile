# The mlstream runtime. onnxruntime-node's install script (a GPU binary download) is skipped:
# the CPU binaries ship inside the npm package. The first stage compiles the TypeScript to
# dist/ (`npm run build`); the image runs that, with production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
# A C compiler for the text token loop (runtime/native/text-loop.c, a Node-API addon the build
# writes to dist/native); the image's node ships its headers. Only this stage has it.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY runtime ./runtime
COPY schemas ./schemas
COPY scripts/build.sh scripts/bundle.mjs ./scripts/
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY schemas ./schemas
COPY --from=build /app/dist ./dist
ENV MODELS_DIR=/models HTTP_PORT=8080
VOLUME ["/models"]
EXPOSE 8080
USER node
ENTRYPOINT ["node", "bin/mlstream.js"]
CMD ["serve"]
