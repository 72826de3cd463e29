# The mlstream runtime. onnxruntime-node's install script (a GPU binary download) is skipped:
# the CPU binaries ship inside the npm package.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY runtime ./runtime
COPY schemas ./schemas
ENV MODELS_DIR=/models HTTP_PORT=8080
VOLUME ["/models"]
EXPOSE 8080
USER node
ENTRYPOINT ["node", "bin/mlstream.js"]
CMD ["serve"]
