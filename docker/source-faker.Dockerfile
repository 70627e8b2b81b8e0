# goairbyte/source-faker: the faker source as a FROM scratch image.
# The build context holds the static binary (CGO_ENABLED=0), nothing else:
#   make images   (or see the Makefile's images target)
FROM scratch
COPY source-faker /source-faker
ENTRYPOINT ["/source-faker"]
