package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/x/goairbyte/registry"
)

var connectorsCommand = &command{
	name:     "connectors",
	synopsis: "connectors [--install-type docker|python|yaml|java|any] [--kind source|destination] [--long] [--format table|json]",
	summary:  "List the connectors of the registry (Airbyte's plus goairbyte's built-ins) that install a given way.",
	example: "goab connectors --install-type python --kind source\n" +
		"AIRBYTE_OFFLINE_MODE=1 goab connectors --long   # no network: built-ins and the disk cache only\n" +
		"goab connectors --kind destination --format json",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		installType := fs.String("install-type", "any", "docker, python, yaml (manifest), java or any")
		kind := choiceFlag(fs, "kind", "", "which connectors (default: both)", string(registry.KindSource), string(registry.KindDestination))
		long := fs.Bool("long", false, "print a table: name, kind, version, language, Docker image, PyPI package (--format json gives every field)")
		format := formatFlag(fs)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usagef("connectors", "unexpected arguments %q", pos)
		}
		t, err := registry.ParseInstallType(*installType)
		if err != nil {
			return usagef("connectors", "%v", err)
		}
		cs, err := e.conns.Registry().Available(ctx, t)
		if err != nil {
			return err
		}
		if kind.value != "" {
			cs = slices.DeleteFunc(cs, func(c *registry.Connector) bool { return string(c.Kind) != kind.value })
		}
		if format.value == "json" {
			doc := connectorsDoc{Connectors: []connectorEntry{}}
			for _, c := range cs {
				doc.Connectors = append(doc.Connectors, newConnectorEntry(c))
			}
			return e.printDoc(doc)
		}
		tw := newTable(e.text)
		if *long {
			tw.row("NAME", "KIND", "VERSION", "LANGUAGE", "DOCKER IMAGE", "PYPI PACKAGE")
		}
		for _, c := range cs {
			if !*long {
				tw.row(c.Name)
				continue
			}
			lang := c.Language
			if c.BuiltIn {
				lang += " (built-in)"
			}
			tw.row(c.Name, c.Kind, orDash(c.DockerImageTag), orDash(lang), orDash(c.DockerRepository), orDash(c.PyPIPackage))
		}
		return tw.flush()
	},
}

// connectorsDoc is connectors' --format json: the registry's entries
// listed, in the table's order.
type connectorsDoc struct {
	Connectors []connectorEntry `json:"connectors"`
}

// connectorEntry is one registry entry; a string the registry does not
// give is "".
type connectorEntry struct {
	Name             string   `json:"name"`
	Kind             string   `json:"kind"`
	DisplayName      string   `json:"display_name"`
	Version          string   `json:"version"`
	Language         string   `json:"language"`
	BuiltIn          bool     `json:"built_in"`
	InstallTypes     []string `json:"install_types"`
	DockerRepository string   `json:"docker_repository"`
	PyPIPackage      string   `json:"pypi_package"`
	DocumentationURL string   `json:"documentation_url"`
	ReleaseStage     string   `json:"release_stage"`
	SupportLevel     string   `json:"support_level"`
	DefinitionID     string   `json:"definition_id"`
}

// newConnectorEntry describes c, with the install types --install-type
// would list it under (any aside).
func newConnectorEntry(c *registry.Connector) connectorEntry {
	types := []string{}
	for _, t := range []registry.InstallType{registry.InstallDocker, registry.InstallPython, registry.InstallYAML, registry.InstallJava} {
		if c.Supports(t) {
			types = append(types, string(t))
		}
	}
	return connectorEntry{
		Name: c.Name, Kind: string(c.Kind), DisplayName: c.DisplayName, Version: c.DockerImageTag, Language: c.Language,
		BuiltIn: c.BuiltIn, InstallTypes: types, DockerRepository: c.DockerRepository, PyPIPackage: c.PyPIPackage,
		DocumentationURL: c.DocumentationURL, ReleaseStage: c.ReleaseStage, SupportLevel: c.SupportLevel, DefinitionID: c.DefinitionID,
	}
}

var versionCommand = &command{
	name:     "version",
	synopsis: "version",
	summary:  "Print goab's version, the goairbyte module's, and the Go toolchain's.",
	example:  "goab version",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := newFlagSet(c)
		pos, err := parse(c, e, fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return usagef("version", "unexpected arguments %q", pos)
		}
		version, revision := "(devel)", ""
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" {
				version = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					revision = " " + s.Value[:12]
				}
			}
		}
		fmt.Fprintf(e.stdout, "goab %s%s (github.com/x/goairbyte, %s, %s/%s)\n", version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	},
}
