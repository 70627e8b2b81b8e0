// Command source-declarative-manifest runs Airbyte declarative (low-code)
// manifests natively: a static, pure-Go drop-in for Airbyte's
// airbyte/source-declarative-manifest image, speaking the Airbyte protocol
// on stdio.
//
//	source-declarative-manifest spec
//	source-declarative-manifest check    --config CONFIG
//	source-declarative-manifest discover --config CONFIG
//	source-declarative-manifest read     --config CONFIG --catalog CATALOG [--state STATE]
//
// The manifest comes, as Airbyte's image takes it, inside the config under
// __injected_declarative_manifest (spec then answers the generic spec that
// requires it); or from --manifest PATH, or from the file
// /airbyte/integration_code/source_declarative_manifest/manifest.yaml that
// images of manifest-only connectors add, and then spec answers the
// manifest's own spec. See package connectors/manifestsource for custom
// Python components (refused: this build runs no Python).
//
// HTTPS_PROXY and SSL_CERT_FILE are honoured; in an image FROM scratch,
// which has no system certificates, the Mozilla roots built into the
// binary are used. GOAIRBYTE_NOW, an RFC 3339 instant, stops the clock
// there (now_utc(), today_utc(), date windows, token expiry), to replay
// traffic recorded at that time. DEPLOYMENT_MODE=cloud, which the Airbyte
// platform sets on Airbyte Cloud, limits requests to public HTTPS
// endpoints, as Airbyte's image does: a request to plain http fails the
// read as the CDK's InvalidSchema, one to a host with a private address
// (the loopback, RFC 1918, 169.254.169.254) as its "Invalid URL endpoint",
// both config errors, before anything is sent. Only this command reads the
// variable; the library does not.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/x/goairbyte/connectors/manifestsource"
	"github.com/x/goairbyte/declarative"
	"github.com/x/goairbyte/internal/publicnet"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

// imageManifest is where images of manifest-only connectors built on
// Airbyte's source-declarative-manifest keep their manifest.
const imageManifest = "/airbyte/integration_code/source_declarative_manifest/manifest.yaml"

func main() {
	path, args, err := manifestFlag(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "source-declarative-manifest: %v\n", err)
		os.Exit(2)
	}
	if path == "" {
		if _, err := os.Stat(imageManifest); err == nil {
			path = imageManifest
		}
	}
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "help" }) {
		// kit's usage, which follows, knows only the protocol's flags.
		fmt.Fprintf(os.Stderr, "%s: any command takes [--manifest PATH], the manifest to run; without it, the config's\n"+
			"__injected_declarative_manifest, or %s in an image.\n\n", filepath.Base(os.Args[0]), imageManifest)
	}
	os.Args = append(os.Args[:1], args...)
	kit.Serve(connectorFor(path, os.Getenv(envNow)))
}

// envNow names the variable that stops the clock.
const envNow = "GOAIRBYTE_NOW"

// connectorFor is the connector to serve: the manifest at path, or, with
// no path, the manifest each config carries; its clock stopped at now
// when now is set.
func connectorFor(path, now string) any {
	var opts []declarative.Option
	if publicnet.InCloud() {
		// Airbyte Cloud's platform says so; its tenants' manifests may
		// reach public HTTPS endpoints only, as in Airbyte's image.
		// A transport that keeps as many idle connections to a host as a
		// manifest's concurrent requests need: http.DefaultTransport's 2
		// would have each round of a concurrency_level above 2 dial (and
		// handshake) again.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		opts = append(opts, declarative.WithHTTPClient(publicnet.Client(&http.Client{Transport: t})))
	}
	if now != "" {
		at, err := time.Parse(time.RFC3339Nano, now)
		if err != nil {
			return failed{fmt.Errorf("%s=%q is not an RFC 3339 instant such as 2025-01-15T12:00:00Z", envNow, now)}
		}
		opts = append(opts, declarative.WithClock(func() time.Time { return at }))
	}
	if path == "" {
		return manifestsource.New(opts...)
	}
	text, err := os.ReadFile(path)
	if err == nil {
		var src *declarative.Source
		if src, err = declarative.New(text, opts...); err == nil {
			return src
		}
	}
	return failed{fmt.Errorf("the manifest %s: %w", path, err)}
}

// manifestFlag takes --manifest PATH (or --manifest=PATH) out of args.
func manifestFlag(args []string) (string, []string, error) {
	var path string
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		if name != "--manifest" {
			rest = append(rest, a)
			continue
		}
		if path != "" {
			return "", nil, errors.New("--manifest given twice")
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", nil, errors.New("--manifest needs the path of a manifest.yaml")
			}
			i++
			value = args[i]
		}
		if value == "" {
			return "", nil, errors.New("--manifest needs the path of a manifest.yaml")
		}
		path = value
	}
	return path, rest, nil
}

// failed is a source whose manifest could not be loaded: every command
// fails with why, as a TRACE ERROR.
type failed struct{ err error }

func (f failed) Spec(context.Context) (*protocol.ConnectorSpecification, error) { return nil, f.err }
func (f failed) Check(context.Context, json.RawMessage) error                   { return f.err }
func (f failed) Discover(context.Context, json.RawMessage) (*protocol.Catalog, error) {
	return nil, f.err
}
func (f failed) Read(context.Context, json.RawMessage, *protocol.ConfiguredCatalog, json.RawMessage,
	func(*protocol.Message) error) error {
	return f.err
}
