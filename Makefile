# goairbyte's build targets. The one-line build of the connector images:
#
#   make images
#
# Images are FROM scratch around static binaries and a static busybox as
# /bin/sh (the Airbyte platform runs a connector through sh -c), so no base
# image and no container registry are needed: BUSYBOX names a statically
# linked busybox (Debian's busybox-static installs one as /bin/busybox).

# The connectors' version, from the one place that says it.
VERSION ?= $(shell sed -n 's/^\tFakerVersion *= *"\(.*\)"$$/\1/p' internal/builtin/builtin.go)
GO      ?= go
DOCKER  ?= docker
BUSYBOX ?= $(shell command -v busybox)
CONNECTORS := source-faker destination-local-json source-declarative-manifest

.PHONY: all bin images test clean

all: bin

# Static binaries of the connectors in build/.
bin:
	@mkdir -p build
	$(foreach c,$(CONNECTORS),CGO_ENABLED=0 $(GO) build -trimpath -o build/$(c)/$(c) ./cmd/$(c) &&) true

# goairbyte/source-faker:$(VERSION), goairbyte/destination-local-json:$(VERSION)
# and goairbyte/source-declarative-manifest:$(VERSION).
# Each build context is the directory holding only that binary and busybox.
images: bin
	@test -x "$(BUSYBOX)" && ! ldd "$(BUSYBOX)" >/dev/null 2>&1 || { echo "make images: BUSYBOX=$(BUSYBOX) is no statically linked busybox (apt-get install busybox-static)" >&2; exit 1; }
	$(foreach c,$(CONNECTORS),cp "$(BUSYBOX)" build/$(c)/busybox && $(DOCKER) build --build-arg VERSION=$(VERSION) -f docker/$(c).Dockerfile -t goairbyte/$(c):$(VERSION) build/$(c) &&) true

# The README's test command (what .ci/run runs after provisioning).
test:
	$(GO) test ./...

clean:
	rm -rf build
