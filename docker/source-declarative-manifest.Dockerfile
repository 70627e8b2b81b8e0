# goairbyte/source-declarative-manifest: Airbyte declarative manifests run
# by goairbyte's native engine, as a FROM scratch image: a drop-in for
# airbyte/source-declarative-manifest (manifest injected in the config as
# __injected_declarative_manifest). The build context holds the static
# binary (CGO_ENABLED=0), nothing else; it carries its own CA roots.
#   make images   (or see the Makefile's images target)
FROM scratch
COPY source-declarative-manifest /source-declarative-manifest
# Airbyte's platform starts a connector image with this variable's command.
ENV AIRBYTE_ENTRYPOINT=/source-declarative-manifest
LABEL io.airbyte.name=goairbyte/source-declarative-manifest
ENTRYPOINT ["/source-declarative-manifest"]
