# Bella's image: one static-ish binary on Debian slim.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin bella

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/bella --create-home bella
COPY --from=build /src/target/release/bella /usr/local/bin/bella
USER bella
ENV BELLA_STATE_DIR=/var/lib/bella LOG_FORMAT=json
EXPOSE 8080
# `bella api` and `bella all` answer on PORT, `bella worker` on METRICS_PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD curl -fsS "http://127.0.0.1:${PORT:-8080}/healthz" || curl -fsS "http://127.0.0.1:${METRICS_PORT:-9090}/healthz" || exit 1
ENTRYPOINT ["bella"]
CMD ["all"]
