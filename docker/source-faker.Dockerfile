# goairbyte/source-faker: the faker source around its static binary
# (CGO_ENABLED=0), with a static busybox as /bin/sh and nothing else:
#   make images   (or see the Makefile's images target)
# The Airbyte platform starts a connector's container with
# sh -c '... eval "$AIRBYTE_ENTRYPOINT read --config ..." ...' (airbyte-platform,
# airbyte-workload-launcher/.../ContainerCommandFactory.kt): an image needs a
# shell with sleep and kill, and AIRBYTE_ENTRYPOINT, or the platform fails the
# job (exit 127). goairbyte and docker run use ENTRYPOINT.
FROM scratch
ARG VERSION=dev
COPY busybox /bin/sh
COPY source-faker /source-faker
ENV AIRBYTE_ENTRYPOINT=/source-faker
LABEL io.airbyte.name=goairbyte/source-faker io.airbyte.version=$VERSION
ENTRYPOINT ["/source-faker"]
