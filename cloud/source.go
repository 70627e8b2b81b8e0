package cloud

// This file is the package's one use of package source: deploying a
// goairbyte Source uses only its Name, ResolvedConfig and SelectedStreams.

import (
	"context"

	api "github.com/x/goairbyte/internal/airbyteapi"
	"github.com/x/goairbyte/internal/catalogs"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/source"
)

// DeploySource creates, under name, a source of src's connector type with
// src's config, resolved as src resolves it to run (its SecretStrings, and
// references through its Environment's secret managers), and remembers
// src's selected streams for DeployConnection.
//
// It refuses a name the workspace's sources already have, as PyAirbyte's
// deploy_source does by default, with an error that names the existing
// source and matches airbyteapi.ErrConflict: Airbyte would allow a second
// one, but a program that deploys on every run would pile up duplicates,
// which a connections Plan and goab's lookups by name refuse as ambiguous.
// To deploy again, use the source there is (Workspace.Sources), delete it
// first, pick another name, or declare it in a connections file, which
// updates an object of its name in place.
func (w *Workspace) DeploySource(ctx context.Context, name string, src *source.Source) (*DeployedSource, error) {
	if err := refuseTaken(w, "source", name, "Sources", "PermanentlyDeleteSource", w.client.Sources(ctx, w.id),
		func(s api.Source) (string, string) { return s.Name, s.ID }); err != nil {
		return nil, err
	}
	def, err := w.definitionID(ctx, src.Name())
	if err != nil {
		return nil, err
	}
	streams, err := src.SelectedStreams(ctx)
	if err != nil {
		return nil, err
	}
	// The connection names each stream by its name and namespace, not by
	// the namespace.name that selects one of a name several share.
	catalog, err := src.DiscoveredCatalog(ctx)
	if err != nil {
		return nil, err
	}
	index := catalogs.NewIndex(catalog, src.Name())
	byName := make(map[string]api.StreamConfiguration, len(streams))
	for _, name := range streams {
		st, err := index.Find(name)
		if err != nil {
			return nil, err
		}
		byName[name] = api.StreamConfiguration{Name: st.Name, Namespace: st.Namespace}
	}
	m, err := core.ConnOf(src.Connector).ResolvedConfig(ctx)
	if err != nil {
		return nil, err
	}
	s, err := w.client.CreateSource(ctx, api.ActorCreate{Name: name, DefinitionID: def, WorkspaceID: w.id, Configuration: m})
	if err != nil {
		return nil, err
	}
	return &DeployedSource{Source: Source(*s), Streams: streams, streams: byName}, nil
}
