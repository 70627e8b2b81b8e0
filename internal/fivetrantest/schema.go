package fivetrantest

import (
	"github.com/x/goairbyte/internal/fakersync"
	"github.com/x/goairbyte/internal/servertest"
)

// columns is the column config of a faker stream, from its JSON schema in
// shared/faker/schemas: every property, id the primary key.
func columns(stream string) (map[string]any, error) {
	props, err := fakersync.Properties(stream)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, name := range props {
		out[name] = map[string]any{"name_in_destination": name, "enabled": true, "hashed": false,
			"enabled_patch_settings": map[string]any{"allowed": name != "id"}, "is_primary_key": name == "id"}
	}
	return out, nil
}

// tables is the table config of a connection. Like Fivetran's, it lists
// no columns: those are only the ones a user changed.
func (s *Server) tables(c *conn) map[string]any {
	out := map[string]any{}
	for _, st := range c.Streams {
		out[st] = map[string]any{"name_in_destination": st, "enabled": true, "columns": map[string]any{},
			"enabled_patch_settings": map[string]any{"allowed": true}, "supports_columns_config": true,
			"supports_history_mode": false, "sync_mode": "SOFT_DELETE"}
	}
	return out
}

// Fault is a failure to inject.
type Fault = servertest.Fault
