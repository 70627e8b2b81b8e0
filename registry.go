package goairbyte

import (
	"context"

	"github.com/x/goairbyte/registry"
)

// InstallType selects connectors by how they install; see
// [AvailableConnectors].
type InstallType = registry.InstallType

// The install types.
const (
	InstallDocker = registry.InstallDocker
	InstallPython = registry.InstallPython
	InstallYAML   = registry.InstallYAML
	InstallJava   = registry.InstallJava
	InstallAny    = registry.InstallAny
)

// AvailableConnectors returns the names of the connectors that install the
// way t says (docker, python, yaml, java or any), sorted. It reads the
// default Environment's registry: Airbyte's (cached on disk for a day; see
// package registry for AIRBYTE_LOCAL_REGISTRY and AIRBYTE_OFFLINE_MODE)
// plus goairbyte's built-in connectors and the sources of the manifest
// directory. With Airbyte's registry out of reach and not cached, it
// returns those that run without it (the built-in connectors and the
// manifest directory's), as PyAirbyte falls back to the registry it
// bundles, and warns through the Environment's logger.
func AvailableConnectors(ctx context.Context, t InstallType) ([]string, error) {
	cs, err := DefaultEnvironment().Registry().Available(ctx, t)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names, nil
}

// ConnectorMetadata returns the registry entry of the connector called name
// ("source-github" or "airbyte/source-github"). An unknown name is a
// *registry.NotFoundError with close matches; a connector whose entry was
// skipped as malformed is an error that says what is wrong with it.
func ConnectorMetadata(ctx context.Context, name string) (*registry.Connector, error) {
	return DefaultEnvironment().Registry().Lookup(ctx, name)
}
