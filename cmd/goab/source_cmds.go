package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"slices"
	"strings"
	"syscall"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/internal/termsafe"
	"github.com/x/goairbyte/protocol"
	"github.com/x/goairbyte/source"
)

// flagGiven reports whether the flag called name was on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}

var specCommand = &command{
	name:     "spec",
	synopsis: "spec <connector> [connector flags] [--format yaml|json] [--output file]",
	summary:  "Print the JSON schema of a source's or a destination's config, to see which config to write.",
	example:  "goab spec source-faker --local-executable ./source-faker --format json",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addAnyConnectorFlags(fs, false)
		format := choiceFlag(fs, "format", "yaml", "the format of the spec", "yaml", "json")
		output := fs.String("output", "", "write the spec to this file instead of stdout (in the format its extension says, unless --format is given)")
		src, err := newAnyConnector(ctx, c, e, fs, sc, args)
		if err != nil {
			return err
		}
		if *output != "" {
			f := ""
			if flagGiven(fs, "format") {
				f = format.value
			}
			// A file that cannot be written is named as the flag's.
			if err := src.WriteConfigSpecFile(ctx, *output, f); errors.As(err, new(*iofs.PathError)) {
				return fmt.Errorf("cannot write the spec to --output %s: %w", *output, errors.Unwrap(err))
			} else if err != nil {
				return err
			}
			return nil
		}
		if format.value == "json" {
			var buf bytes.Buffer
			if err := src.PrintConfigSpec(ctx, &buf, format.value); err != nil {
				return err
			}
			return e.printJSON(buf.Bytes())
		}
		return src.PrintConfigSpec(ctx, e.stdout, format.value) // YAML escapes what a terminal acts on
	},
}

// addAnyConnectorFlags registers the flags of a command that takes a
// source or a destination (spec, check, validate): the connector flags,
// a source's --manifest and, for a command that reads streams, --streams.
func addAnyConnectorFlags(fs *flag.FlagSet, readsStreams bool) *sourceCommand {
	sc := &sourceCommand{conn: addConnectorFlags(fs, "", "connector")}
	fs.StringVar(&sc.manifest, "manifest", "", "run the source natively from this declarative manifest (a manifest.yaml path or URL), with no Python or Docker")
	if readsStreams {
		fs.StringVar(&sc.streams, "streams", "", "a source's streams to use, separated by commas, such as users,purchases (default: all)")
	}
	return sc
}

// newAnyConnector parses args and builds the connector they name: a
// destination when its name starts with destination-, else a source.
func newAnyConnector(ctx context.Context, c *command, e *env, fs *flag.FlagSet, sc *sourceCommand, args []string) (*connector.Connector, error) {
	pos, err := parse(c, e, fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 && strings.HasPrefix(pos[0], "destination-") {
		if err := sourceOnly(c, sc, pos[0]); err != nil {
			return nil, err
		}
		dst, err := destinationFromFlags(ctx, c, e, fs, sc.conn, pos)
		if err != nil {
			return nil, err
		}
		return dst.Connector, nil
	}
	src, err := sourceFromFlags(ctx, c, e, fs, sc, pos)
	if err != nil {
		return nil, err
	}
	return src.Connector, nil
}

// sourceOnly refuses a source's flags for the destination name.
func sourceOnly(c *command, sc *sourceCommand, name string) error {
	switch {
	case sc.streams != "":
		return usagef(c.name, "--streams selects a source's streams; %s is a destination", name)
	case sc.manifest != "":
		return usagef(c.name, "--manifest runs a source; %s is a destination", name)
	}
	return nil
}

var checkCommand = &command{
	name:     "check",
	synopsis: "check <connector> --config CONFIG [connector flags]",
	summary:  "Ask a source or a destination whether it can connect with a config.",
	example:  "goab check source-faker --local-executable ./source-faker --config '{\"count\": 100}'",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addAnyConnectorFlags(fs, false)
		src, err := newAnyConnector(ctx, c, e, fs, sc, args)
		if err != nil {
			return err
		}
		if err := src.Check(ctx); err != nil {
			return err
		}
		fmt.Fprintf(e.text, "%s: connection check succeeded.\n", src.Name())
		return nil
	},
}

var discoverCommand = &command{
	name:     "discover",
	synopsis: "discover <connector> --config CONFIG [connector flags] [--format json|table]",
	summary:  "Print a connector's catalog: its streams (or those --streams names), sync modes, cursors and primary keys.",
	example:  "goab discover source-faker --local-executable ./source-faker --config config.yaml --format table",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addSourceFlags(fs)
		format := choiceFlag(fs, "format", "json", "json (the catalog as the connector sent it) or table (one line per stream)", "json", "table")
		src, err := newSource(ctx, c, e, fs, sc, args, nil)
		if err != nil {
			return err
		}
		cat, err := src.Discover(ctx)
		if err != nil {
			return err
		}
		if sc.streams != "" {
			// Those streams only; a name the catalog lacks fails as in read.
			names, err := src.SelectedStreams(ctx)
			if err != nil {
				return err
			}
			some := *cat
			some.Streams = slices.DeleteFunc(slices.Clone(cat.Streams), func(s protocol.Stream) bool { return !slices.Contains(names, s.Name) })
			cat = &some
		}
		if format.value == "table" {
			return printCatalogTable(e, cat)
		}
		return e.printDoc(cat)
	},
}

func printCatalogTable(e *env, cat *protocol.Catalog) error {
	tw := newTable(e.text, "STREAM", "SYNC MODES", "CURSOR", "PRIMARY KEY")
	for _, s := range cat.Streams {
		modes := make([]string, len(s.SupportedSyncModes))
		for i, m := range s.SupportedSyncModes {
			modes[i] = string(m)
		}
		var keys []string
		for _, k := range s.SourceDefinedPrimaryKey {
			keys = append(keys, strings.Join(k, "."))
		}
		tw.row(s.Name, strings.Join(modes, ","), orDash(strings.Join(s.DefaultCursorField, ".")), orDash(strings.Join(keys, ",")))
	}
	return tw.flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var recordsCommand = &command{
	name:     "records",
	synopsis: "records <connector> --config CONFIG --stream NAME [--limit N] [connector flags]",
	summary:  "Read one stream, with no cache, and print its records as JSON lines on stdout.",
	example:  "goab records source-faker --local-executable ./source-faker --config '{\"count\": 10}' --stream users --limit 5 | jq .name",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addSourceFlags(fs)
		stream := fs.String("stream", "", "the stream to print (required unless --streams names exactly one)")
		limit := fs.Int("limit", 0, "stop after this many records (0: all)")
		var name string
		src, err := newSource(ctx, c, e, fs, sc, args, func() error {
			if *limit < 0 {
				return usagef(c.name, "--limit must be 0 (all) or more")
			}
			if name = *stream; name != "" {
				return nil
			}
			if s := splitList(sc.streams); len(s) == 1 {
				name = s[0]
				return nil
			}
			return usagef(c.name, "--stream is required: name the one stream to print")
		})
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(e.stdout, 64<<10)
		var line []byte
		for rec, err := range src.Records(ctx, name, source.Limit(*limit)) {
			if err != nil {
				w.Flush()
				return err
			}
			line = append(termsafe.AppendJSON(line[:0], rec.Raw()), '\n')
			if _, err := w.Write(line); err != nil {
				return quietEPIPE(err)
			}
		}
		return quietEPIPE(w.Flush())
	},
}

// quietEPIPE treats a reader that stopped reading (EPIPE) as the end the
// user wanted, not as a failure.
func quietEPIPE(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

var validateCommand = &command{
	name:     "validate",
	synopsis: "validate <connector> --config CONFIG [--limit N] [--write-sample] [--format table|json] [connector flags]",
	summary: "Validate a connector as pyab validate does: spec, config against the spec, check, then for a source discover and a small read of every selected stream, for a destination (a name starting with destination-) a write of a few faker records when --write-sample says so. " +
		"It prints a line per step passed; with --format json, one JSON document with each step and its outcome (ok, failed, skipped), also when a step fails.",
	example: "goab validate source-faker --local-executable ./source-faker --config '{\"count\": 10}' --limit 5",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		sc := addAnyConnectorFlags(fs, true)
		limit := fs.Int("limit", 10, "records to read from each stream of a source, or to write into a destination")
		sample := fs.Bool("write-sample", false, "for a destination: write --limit records of each stream of the built-in faker into it")
		format := formatFlag(fs)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if *limit < 1 {
			return usagef(c.name, "--limit must be at least 1")
		}
		if len(pos) > 0 && strings.HasPrefix(pos[0], "destination-") {
			if err := sourceOnly(c, sc, pos[0]); err != nil {
				return err
			}
			dst, err := destinationFromFlags(ctx, c, e, fs, sc.conn, pos)
			if err != nil {
				return err
			}
			return runValidation(e, format.value, dst.Name(), "destination", destinationSteps(ctx, e, dst, *limit, *sample))
		}
		if *sample {
			return usagef(c.name, "--write-sample is for destinations (names starting with destination-)")
		}
		src, err := sourceFromFlags(ctx, c, e, fs, sc, pos)
		if err != nil {
			return err
		}
		return runValidation(e, format.value, src.Name(), "source", sourceSteps(ctx, src, *limit))
	},
}

// validation is one step of validate: f runs it, sets the fields of its
// JSON step beside step and outcome, and returns the words of its table
// line.
type validation struct {
	name string
	f    func(*validateStep) (string, error)
}

// validateDoc is validate's --format json.
type validateDoc struct {
	Connector string         `json:"connector"`
	Kind      string         `json:"kind"`
	Valid     bool           `json:"valid"`
	Steps     []validateStep `json:"steps"`
}

// validateStep is one step of validate and its outcome: ok, failed or
// skipped (after a failed one). A step that passed adds what it found.
type validateStep struct {
	Step             string             `json:"step"`
	Outcome          string             `json:"outcome"`
	DocumentationURL *string            `json:"documentation_url,omitempty"` // spec
	Streams          *[]validatedStream `json:"streams,omitempty"`           // discover, read
	RecordsSent      *int64             `json:"records_sent,omitempty"`      // write
	RecordsConfirmed *int64             `json:"records_confirmed,omitempty"` // write
}

// validatedStream is a stream of the discover and read steps.
type validatedStream struct {
	Stream  string `json:"stream"`
	Records *int   `json:"records,omitempty"` // the read step's
}

// runValidation runs the steps of the connector called name, of kind
// source or destination, until one fails. As a table it prints each
// step's line as the step passes and the verdict; as JSON (format json)
// one document at the end, whose steps after a failed one are skipped,
// unless the step failed for want of a --config: a usage error. The error
// of a failed step is goab's error either way.
func runValidation(e *env, format, name, kind string, steps []validation) error {
	doc := validateDoc{Connector: name, Kind: kind, Valid: true}
	var failed error
	for _, s := range steps {
		step := validateStep{Step: s.name, Outcome: "skipped"}
		if failed == nil {
			text, err := s.f(&step)
			if err != nil {
				step = validateStep{Step: s.name, Outcome: "failed"}
				doc.Valid, failed = false, needsConfig("validate", fmt.Errorf("validation step %q: %w", s.name, err))
				if format != "json" || errors.As(failed, new(*usageError)) {
					return failed // a usage error prints nothing on stdout
				}
			} else {
				step.Outcome = "ok"
				if format != "json" {
					fmt.Fprintf(e.text, "ok  %-9s %s\n", s.name, text)
				}
			}
		}
		doc.Steps = append(doc.Steps, step)
	}
	if format == "json" {
		if err := e.printDoc(doc); err != nil {
			return err
		}
		return failed
	}
	fmt.Fprintf(e.text, "%s is valid.\n", name)
	return nil
}

// connectorSteps are the steps sources and destinations share: spec,
// config, check.
func connectorSteps(ctx context.Context, c *connector.Connector) []validation {
	return []validation{
		{"spec", func(step *validateStep) (string, error) {
			spec, err := c.Spec(ctx)
			if err != nil {
				return "", err
			}
			step.DocumentationURL = &spec.DocumentationURL
			return "documentation: " + orDash(spec.DocumentationURL), nil
		}},
		{"config", func(*validateStep) (string, error) { return "matches the spec", c.ValidateConfig(ctx) }},
		{"check", func(*validateStep) (string, error) { return "connection succeeded", c.Check(ctx) }},
	}
}

// sourceSteps validate a source: the shared steps, discover, and a read of
// at most limit records of each selected stream.
func sourceSteps(ctx context.Context, src *source.Source, limit int) []validation {
	return append(connectorSteps(ctx, src.Connector),
		validation{"discover", func(step *validateStep) (string, error) {
			cat, err := src.Discover(ctx)
			if err != nil {
				return "", err
			}
			streams := []validatedStream{}
			for _, s := range cat.Streams {
				streams = append(streams, validatedStream{Stream: s.Name})
			}
			step.Streams = &streams
			if len(cat.Streams) == 1 {
				return "1 stream", nil
			}
			return fmt.Sprintf("%d streams", len(cat.Streams)), nil
		}},
		validation{"read", func(step *validateStep) (string, error) {
			names, err := src.SelectedStreams(ctx)
			if err != nil {
				return "", err
			}
			if len(names) == 0 {
				if names, err = src.AvailableStreams(ctx); err != nil {
					return "", err
				}
			}
			var parts []string
			streams := []validatedStream{}
			for _, s := range names {
				n := 0
				for _, err := range src.Records(ctx, s, source.Limit(limit)) {
					if err != nil {
						return "", err
					}
					n++
				}
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
				streams = append(streams, validatedStream{Stream: s, Records: &n})
			}
			step.Streams = &streams
			return "records: " + strings.Join(parts, ", "), nil
		}})
}

// destinationSteps validate a destination as pyab validate does: the
// shared steps, then, when sample says so, a write of limit records of
// each stream of the built-in faker, streamed with no cache and no state
// kept.
func destinationSteps(ctx context.Context, e *env, dst *destination.Destination, limit int, sample bool) []validation {
	steps := connectorSteps(ctx, dst.Connector)
	if sample {
		steps = append(steps, validation{"write", func(step *validateStep) (string, error) {
			faker, err := source.New(ctx, "source-faker", connector.WithEnvironment(e.conns),
				connector.WithConfig(map[string]any{"count": limit, "seed": 1}))
			if err != nil {
				return "", err
			}
			res, err := dst.Write(ctx, faker, destination.NoCache(), destination.NoStateCache())
			if err != nil {
				return "", err
			}
			step.RecordsSent, step.RecordsConfirmed = ptr(res.TotalSent()), ptr(res.TotalConfirmed())
			return fmt.Sprintf("%d faker records sent, %d confirmed", res.TotalSent(), res.TotalConfirmed()), nil
		}})
	}
	return steps
}
