# syntax=docker/dockerfile:1
# The OpenTrain MCP server over Streamable HTTP, as a small non-root image:
#   docker build -t opentrain-mcp .
#   docker run --rm -p 8080:8080 -e OPENTRAIN_MCP_PUBLIC_URL=https://mcp.example.com opentrain-mcp
# serves /mcp on port 8080. Set the URL clients use (OPENTRAIN_MCP_PUBLIC_URL, or the other
# `opentrain-mcp --help` HTTP flags as OPENTRAIN_MCP_* variables): the Origin check and the OAuth
# metadata use it. Callers send their own `Authorization: Bearer <token>`; the image holds no credentials.
#
# UNTESTED HERE: the machine this project is developed and CI-tested on has the docker client but no
# Docker engine, so this file has never been built. It only uses `cargo build --locked` as CI does.

# --- build: the workspace's opentrain-mcp binary, release profile, stripped -------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CARGO_PROFILE_RELEASE_STRIP=true cargo build --release --locked -p opentrain-mcp \
    && install -D -m 0755 target/release/opentrain-mcp /out/opentrain-mcp

# --- run: Debian slim with CA roots (HTTPS to the API), an unprivileged user, nothing else ---------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin opentrain
COPY --from=build /out/opentrain-mcp /usr/local/bin/opentrain-mcp
USER 10001:10001
EXPOSE 8080
# 0.0.0.0 inside the container: the port is published by the runtime, which decides who reaches it.
ENTRYPOINT ["opentrain-mcp"]
CMD ["--http", "0.0.0.0:8080"]
