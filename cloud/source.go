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
//
// It creates another source each time, even when the workspace has one of
// that name (Airbyte allows several): a program that deploys on every run
// makes duplicates, which a connections Plan and goab's lookups by name
// then refuse as ambiguous. Deploy once, look the source up first
// (Workspace.Sources), or declare it in a connections file, which updates
// an object of its name in place.
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
