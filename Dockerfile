# vidgate's container image: `vidgate run` on ECS (the default command) and
# `vidgate lambda` as an AWS Lambda container image (command "lambda").
# Debian 12 throughout, so the runtime libraries are the ones it was built
# against. Build: podman build -t vidgate .   (or docker build)
ARG BASE=debian:12

FROM ${BASE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      g++ cmake ninja-build pkg-config \
      libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev \
      libebur128-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libssl-dev \
      nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev \
      libcpp-httplib-dev libinih-dev libpugixml-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake ./cmake
COPY web ./web
COPY src ./src
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIDGATE_E2E=OFF >/dev/null \
 && cmake --build /build --target vidgate \
 && strip /build/vidgate

FROM ${BASE}
# Only the shared libraries vidgate links (apt brings what they need), and
# the CA certificates for TLS to AWS, curl for the health check; no
# manuals, translations or docs (the copyright files stay).
RUN printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
      'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
      'path-exclude=/usr/share/locale/*' > /etc/dpkg/dpkg.cfg.d/vidgate-slim \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libavformat59 libavcodec59 libavfilter8 libswscale6 libswresample4 libavutil57 \
      libebur128-1 libsqlite3-0 libpq5 libcurl4 libssl3 libpugixml1v5 libspdlog1.10 libfmt9 \
      libtomlplusplus3 libinih1 libcpp-httplib0.11 libprometheus-cpp-core1.0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --home-dir /var/lib/vidgate --create-home \
      --shell /usr/sbin/nologin vidgate
COPY --from=build /build/vidgate /usr/local/bin/vidgate
USER vidgate
WORKDIR /var/lib/vidgate
# Scratch copies of S3 objects go under TMPDIR (Lambda: only /tmp is writable).
ENV TMPDIR=/tmp
# `vidgate run` serves /healthz on server.listen (127.0.0.1:8080 by default):
# 503 when its intake loop is stuck. (Lambda ignores this; so does ECS, whose
# task definition carries its own, the same.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/vidgate"]
CMD ["run"]
