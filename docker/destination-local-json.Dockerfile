# goairbyte/destination-local-json: the local-JSON destination around its
# static binary (CGO_ENABLED=0), with a static busybox as /bin/sh:
#   make images   (or see the Makefile's images target)
# The shell and AIRBYTE_ENTRYPOINT are what the Airbyte platform starts a
# connector with (see source-faker.Dockerfile).
FROM scratch
ARG VERSION=dev
COPY busybox /bin/sh
COPY destination-local-json /destination-local-json
ENV AIRBYTE_ENTRYPOINT=/destination-local-json
LABEL io.airbyte.name=goairbyte/destination-local-json io.airbyte.version=$VERSION
ENTRYPOINT ["/destination-local-json"]
