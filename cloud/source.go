package cloud

// This file is the package's one use of package source: deploying a
// goairbyte Source uses only its Name, ResolvedConfig and SelectedStreams.

import (
	"context"

	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/source"
)

// DeploySource creates, under name, a source of src's connector type with
// src's config, resolved as src resolves it to run (its SecretStrings, and
// references through its Environment's secret managers), and remembers
// src's selected streams for DeployConnection.
func (w *Workspace) DeploySource(ctx context.Context, name string, src *source.Source) (*DeployedSource, error) {
	def, err := w.definitionID(ctx, src.Name())
	if err != nil {
		return nil, err
	}
	streams, err := src.SelectedStreams(ctx)
	if err != nil {
		return nil, err
	}
	m, err := core.ConnOf(src.Connector).ResolvedConfig(ctx)
	if err != nil {
		return nil, err
	}
	s, err := w.client.CreateSource(ctx, api.ActorCreate{Name: name, DefinitionID: def, WorkspaceID: w.id, Configuration: m})
	if err != nil {
		return nil, err
	}
	return &DeployedSource{Source: Source(*s), Streams: streams}, nil
}
