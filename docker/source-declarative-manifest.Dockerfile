# goairbyte/source-declarative-manifest: Airbyte declarative manifests run
# by goairbyte's native engine: a drop-in for
# airbyte/source-declarative-manifest (manifest injected in the config as
# __injected_declarative_manifest). The build context holds the static
# binary (CGO_ENABLED=0), which carries its own CA roots, and a static
# busybox as /bin/sh:
#   make images   (or see the Makefile's images target)
# The shell and AIRBYTE_ENTRYPOINT are what the Airbyte platform starts a
# connector with (see source-faker.Dockerfile).
FROM scratch
ARG VERSION=dev
COPY busybox /bin/sh
# The engine spools an AsyncRetriever's downloads to $TMPDIR, else /tmp,
# which FROM scratch lacks and the platform does not mount (its connector
# runs as uid 1000): made here, writable by all, as in Airbyte's images.
RUN ["/bin/sh", "-c", "mkdir -m 1777 /tmp"]
COPY source-declarative-manifest /source-declarative-manifest
ENV AIRBYTE_ENTRYPOINT=/source-declarative-manifest
LABEL io.airbyte.name=goairbyte/source-declarative-manifest io.airbyte.version=$VERSION
ENTRYPOINT ["/source-declarative-manifest"]
