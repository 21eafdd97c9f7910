# Images of the two daemons, named as deploy/ names them:
#   docker build --target exporter    -t queuelens-exporter:0.1.0 .
#   docker build --target recommender -t queuelens-recommender:0.1.0 .
# Built on Debian 12 from Debian's packages, like the project itself (scripts/install-deps.sh);
# the runtime images get only the packages that hold the libraries the binaries link, and run as
# an unprivileged user.

FROM debian:12 AS build
COPY scripts/install-deps.sh /src/scripts/install-deps.sh
RUN /src/scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DQUEUELENS_BUILD_TESTS=OFF -DQUEUELENS_BUILD_BENCH=OFF \
    && cmake --build /build --target queuelens-exporter queuelens-recommender -j"$(nproc)"
# The Debian packages that hold the shared libraries of both binaries, for the runtime stage.
# Libraries are looked up by their last directory and file name: with Debian 12's merged /usr,
# ldd and dpkg may disagree on /lib or /usr/lib.
RUN mkdir -p /out/bin \
    && cp /build/bin/queuelens-exporter /build/bin/queuelens-recommender /out/bin/ \
    && ldd /out/bin/* | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u \
       | while read -r lib; do dpkg -S "*/$(basename "$(dirname "$lib")")/$(basename "$lib")"; done \
       | sed 's/: .*//' | tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u > /out/runtime-packages.txt \
    && test -s /out/runtime-packages.txt

FROM debian:12-slim AS runtime
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
# ca-certificates: the exporter calls the kubelet and Jaeger, the recommender Prometheus, over TLS.
RUN apt-get update \
    && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && useradd --system --uid 65532 --user-group --no-create-home --shell /usr/sbin/nologin queuelens
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532

FROM runtime AS exporter
COPY --from=build /out/bin/queuelens-exporter /usr/local/bin/queuelens-exporter
EXPOSE 8470 4318
ENTRYPOINT ["/usr/local/bin/queuelens-exporter"]

FROM runtime AS recommender
COPY --from=build /out/bin/queuelens-recommender /usr/local/bin/queuelens-recommender
EXPOSE 8471 6443 9098
ENTRYPOINT ["/usr/local/bin/queuelens-recommender"]
