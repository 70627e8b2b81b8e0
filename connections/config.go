package connections

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config declares the sources, destinations and connections of one
// workspace, each by its name there. It is what a connections.yaml file
// holds; a program may build it directly.
type Config struct {
	// WorkspaceID is the workspace the file is for; a command-line flag or
	// the caller may override it.
	WorkspaceID string `yaml:"workspace_id,omitempty"`
	// Sources are the declared sources by name; each Type must start
	// with "source-".
	Sources map[string]Connector `yaml:"sources,omitempty"`
	// Destinations are the declared destinations by name; each Type must
	// start with "destination-".
	Destinations map[string]Connector `yaml:"destinations,omitempty"`
	// Connections are the declared connections by name.
	Connections map[string]Connection `yaml:"connections,omitempty"`
}

// Connector is a source or destination: its type by registry name
// ("source-faker", "destination-duckdb") and its config, in which
// "secret_reference::NAME" values are resolved with package secrets, each
// secret once per Plan however many declarations name it.
type Connector struct {
	// Type is the connector's registry name, matched against the
	// docker repository of the workspace's connector definitions.
	Type string `yaml:"type"`
	// Config is the connector's config as its spec describes it; nil
	// sends an empty object.
	Config map[string]any `yaml:"config,omitempty"`
}

// Connection links a declared source to a declared destination.
type Connection struct {
	// Source names a source of Config.Sources.
	Source string `yaml:"source"`
	// Destination names a destination of Config.Destinations.
	Destination string `yaml:"destination"`
	// Streams to sync, by name; an empty map syncs every stream with the
	// server's defaults.
	Streams map[string]Stream `yaml:"streams,omitempty"`
	// Schedule is "manual" (the default) or a Quartz cron expression as
	// Airbyte takes it, such as "0 0 * * * ?".
	Schedule string `yaml:"schedule,omitempty"`
	// Prefix goes before every table name in the destination.
	Prefix string `yaml:"prefix,omitempty"`
	// Namespace is where the tables go: "" or "destination" for the
	// destination's default, "source" for the source's namespace, any
	// other value a custom format such as "analytics".
	Namespace string `yaml:"namespace,omitempty"`
	// Status is "active" (the default) or "inactive".
	Status string `yaml:"status,omitempty"`
}

// Stream configures one stream of a connection. Fields left empty are the
// server's to choose and are not compared.
type Stream struct {
	// SyncMode is one of Airbyte's: full_refresh_overwrite,
	// full_refresh_append, incremental_append,
	// incremental_deduped_history, ...
	SyncMode string `yaml:"sync_mode,omitempty"`
	// CursorField is the path to the field whose value marks how far an
	// incremental sync got, such as ["updated_at"].
	CursorField []string `yaml:"cursor_field,omitempty"`
	// PrimaryKey lists the paths of the fields that make up the key, such
	// as [["id"]], which the deduplicating sync modes use.
	PrimaryKey [][]string `yaml:"primary_key,omitempty"`
	// SelectedFields, when set, limits the sync to the fields at these
	// paths.
	SelectedFields [][]string `yaml:"selected_fields,omitempty"`
}

// Load reads a connections YAML file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// parse reads connections YAML. Unknown keys are errors, so that a typo
// does not silently declare nothing; so are a file with no document and
// one with several, whose later documents would otherwise be ignored (and,
// with DeleteUnmentioned, what they declare deleted).
func parse(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); errors.Is(err, io.EOF) {
		return nil, errors.New("connections: the file holds no YAML document (it is empty or only comments); declare at least workspace_id, sources, destinations or connections")
	} else if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("connections: the file holds several YAML documents (separated by ---); put everything in one")
	}
	return &c, c.validate()
}

// validate checks that every connection names declared objects and that
// values are ones Airbyte takes.
func (c *Config) validate() error {
	var errs []error
	for _, kind := range []struct {
		what, prefix string
		m            map[string]Connector
	}{{"source", "source-", c.Sources}, {"destination", "destination-", c.Destinations}} {
		for name, x := range kind.m {
			if !strings.HasPrefix(x.Type, kind.prefix) {
				errs = append(errs, fmt.Errorf("%s %q: type %q must be a %s connector name like %sfaker", kind.what, name, x.Type, kind.what, kind.prefix))
			}
		}
	}
	for _, name := range sortedKeys(c.Connections) {
		x := c.Connections[name]
		if _, ok := c.Sources[x.Source]; !ok {
			errs = append(errs, fmt.Errorf("connection %q: source %q is not declared", name, x.Source))
		}
		if _, ok := c.Destinations[x.Destination]; !ok {
			errs = append(errs, fmt.Errorf("connection %q: destination %q is not declared", name, x.Destination))
		}
		if x.Status != "" && x.Status != "active" && x.Status != "inactive" {
			errs = append(errs, fmt.Errorf("connection %q: status %q must be active or inactive", name, x.Status))
		}
		if x.Schedule != "" && x.Schedule != "manual" && len(strings.Fields(x.Schedule)) < 6 {
			errs = append(errs, fmt.Errorf("connection %q: schedule %q is neither manual nor a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year])", name, x.Schedule))
		}
		for sname, st := range x.Streams {
			if st.SyncMode != "" && !slices.Contains(syncModes, st.SyncMode) {
				errs = append(errs, fmt.Errorf("connection %q, stream %q: sync_mode %q is not one of %s", name, sname, st.SyncMode, strings.Join(syncModes, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}

var syncModes = []string{"full_refresh_overwrite", "full_refresh_overwrite_deduped", "full_refresh_append", "full_refresh_update",
	"full_refresh_soft_delete", "incremental_append", "incremental_deduped_history", "incremental_update", "incremental_soft_delete"}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
