# goairbyte/destination-local-json: the local-JSON destination as a FROM
# scratch image. The build context holds the static binary (CGO_ENABLED=0):
#   make images   (or see the Makefile's images target)
FROM scratch
COPY destination-local-json /destination-local-json
ENTRYPOINT ["/destination-local-json"]
