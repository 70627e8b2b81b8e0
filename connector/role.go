package connector

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/protocol"
)

// namedKind is the kind of connector the way c runs names, by Airbyte's
// naming (source-… and destination-…): the last part of its Docker image's
// repository, its executable's file name, or its Python package's name
// (airbyte-source-…); false when it names neither. The connector's own name
// is not looked at: resolution already refused a name of the other kind
// that the registry or the Environment knows.
func (c *Connector) namedKind() (kind core.Kind, what string, ok bool) {
	m := c.exec.Method()
	var name string
	switch m.Kind {
	case executor.KindDocker:
		repo := m.Image
		if i := strings.IndexByte(repo, '@'); i >= 0 {
			repo = repo[:i]
		}
		repo = repo[strings.LastIndexByte(repo, '/')+1:]
		if i := strings.IndexByte(repo, ':'); i >= 0 {
			repo = repo[:i]
		}
		name, what = repo, "the image "+m.Image
	case executor.KindLocal:
		name, what = filepath.Base(m.Path), "the executable "+m.Path
	case executor.KindPython:
		name, what = strings.TrimPrefix(m.Requirement, "airbyte-"), "the package "+m.Requirement
	default:
		return 0, "", false
	}
	switch {
	case strings.HasPrefix(name, "source-"):
		return core.KindSource, what, true
	case strings.HasPrefix(name, "destination-"):
		return core.KindDestination, what, true
	}
	return 0, "", false
}

// specKind is the kind spec says its connector is: a destination declares
// the destination sync modes it supports, a source none.
func specKind(spec *protocol.ConnectorSpecification) core.Kind {
	if len(spec.SupportedDestinationSyncModes) > 0 {
		return core.KindDestination
	}
	return core.KindSource
}

// roleMismatch refuses a connector got as one kind whose way of running it
// and spec both say it is of the other: a source's image or executable
// given to GetDestination (its check succeeds as a destination's would, and
// only the write fails), or a destination's given to GetSource. Either
// alone proves nothing (a destination's spec may leave out its sync modes,
// and a name is a name), so both must agree.
func (c *Connector) roleMismatch(spec *protocol.ConnectorSpecification) error {
	named, what, ok := c.namedKind()
	if !ok || named == c.kind || specKind(spec) != named {
		return nil
	}
	evidence := "its spec declares no destination sync modes (supported_destination_sync_modes), which a destination's declares"
	if named == core.KindDestination {
		evidence = "its spec declares the destination sync modes it supports (supported_destination_sync_modes)"
	}
	other := "source"
	get := "get it as a source (goairbyte.GetSource)"
	if named == core.KindDestination {
		other, get = "destination", "get it as a destination (goairbyte.GetDestination)"
	}
	return &OptionError{Connector: c.name, Reason: fmt.Sprintf("%s is a %s, not a %s: %s; %s", what, other, c.kind, evidence, get)}
}

// checkRole is roleMismatch for Check, which does not need the spec: it is
// asked for only when the way the connector runs names the other kind.
func (c *Connector) checkRole(ctx context.Context) error {
	if named, _, ok := c.namedKind(); !ok || named == c.kind {
		return nil
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil // Check itself says what is wrong with the connector
	}
	return c.roleMismatch(spec)
}
