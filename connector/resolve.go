package connector

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/x/goairbyte/connectors/manifestsource"
	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/internal/builtin"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/imageref"
	"github.com/x/goairbyte/internal/kitcore"
	"github.com/x/goairbyte/internal/runmethod"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/registry"
)

// This file decides how a connector runs: from the options when they say,
// else as PyAirbyte does — a connector registered in the Environment runs in
// process, then an executable named like the connector on PATH, then what
// its registry entry offers (a manifest-only connector's manifest, run
// natively; its PyPI package when Python is available, its Docker image
// when an engine answers).

// resolved is how one connector runs.
type resolved struct {
	exec    executor.Executor
	version string // the version it runs, "" when unknown
	pinned  bool   // a Python package pinned to a version: install it before the first command
	// manifest is set for a source run natively from a declarative
	// manifest, and for source-declarative-manifest in process (with
	// inProcess), which runs the manifests its configs carry the same way.
	manifest bool
	// inProcess is set for a connector registered in the Environment,
	// chosen with no way given.
	inProcess bool
	// way is the way chosen with no way given, from PATH or the registry
	// (wayOnPath, wayRegistryPython, wayRegistryDocker), for checkResolved.
	way string
}

// explicitMethods names the ways of running the connector the options chose.
func (s *settings) explicitMethods() []string {
	var m []string
	if s.useLocal {
		m = append(m, "WithLocalExecutable")
	}
	if s.useDocker {
		m = append(m, "WithDockerImage")
	}
	if s.usePython {
		m = append(m, "WithPipURL/WithPython")
	}
	if s.goConnector != nil {
		m = append(m, "WithGoConnector")
	}
	if s.custom != nil {
		m = append(m, "WithExecutor")
	}
	if s.manifest != nil {
		m = append(m, wayManifest)
	}
	return m
}

// check reports the options that do not fit each other or the kind of
// connector, before anything is resolved.
func (s *settings) check(kind core.Kind, name string) error {
	// A space around a name would be trimmed by the registry's lookup but
	// not by the in-process and PATH lookups before it, so "source-faker "
	// would run elsewhere than "source-faker": refuse it instead.
	if name == "" || strings.ContainsFunc(name, unicode.IsSpace) {
		return &OptionError{Connector: fmt.Sprintf("%q", name), Reason: "a connector name is a single word such as source-faker, " +
			"with no spaces; trim the name"}
	}
	if strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return &OptionError{Connector: name, Reason: "a connector name is a single word such as source-faker, " +
			"not a path or an image; run a path with WithLocalExecutable(path) and an image with WithDockerImage(image)"}
	}
	methods := s.explicitMethods()
	if len(methods) > 1 {
		return &OptionError{Connector: name, Option: strings.Join(methods, " and "),
			Reason: "these are different ways of running the connector; choose one"}
	}
	for _, o := range []struct {
		option string
		isNil  bool
	}{{"WithHTTPClient", s.httpClient == nil}, {"WithClock", s.clock == nil},
		// A nil way would be no way: the connector would run some other
		// way than the caller chose.
		{"WithExecutor", s.custom == nil}, {"WithGoConnector", s.goConnector == nil}} {
		if o.isNil && slices.Contains(s.given, o.option) {
			return &OptionError{Connector: name, Option: o.option, Reason: "it needs a value, not nil"}
		}
	}
	if s.useLocal && s.localPath == "" {
		return &OptionError{Connector: name, Option: "WithLocalExecutable", Reason: `it needs a path or a name on PATH, not ""`}
	}
	for i, kv := range s.procEnv {
		// Not quoted: a value given alone by mistake may be a secret.
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return &OptionError{Connector: name, Option: "WithEnv", Reason: fmt.Sprintf("variable %d of %d is not KEY=VALUE", i+1, len(s.procEnv))}
		}
	}
	for _, m := range s.mounts {
		if m.HostDir == "" {
			// An empty path is the working directory to filepath.Abs: the
			// container would get it.
			return &OptionError{Connector: name, Option: "WithLocalMount", Reason: "it needs a directory, not \"\""}
		}
	}
	if s.goConnector != nil {
		if src, dst := kitRoles(s.goConnector); !src && !dst {
			return &OptionError{Connector: name, Option: "WithGoConnector", Reason: fmt.Sprintf("%T is %s: %s", s.goConnector, notAKitConnector, kitMismatch(s.goConnector))}
		}
	}
	if s.manifest != nil {
		if kind == core.KindDestination {
			return &OptionError{Connector: name, Option: wayManifest, Reason: "a declarative manifest describes a source, not a destination"}
		}
		if err := s.checkManifestArg(name); err != nil {
			return err
		}
	}
	switch {
	case len(methods) == 1:
		if err := s.checkWay(name, methods[0]); err != nil {
			return err
		}
	case s.hostNetwork || len(s.mounts) > 0:
		// The Docker knobs alone choose Docker (the default image), so the
		// knobs of the other ways have nothing to act on.
		if err := s.checkWay(name, "WithDockerImage"); err != nil {
			return err
		}
	}
	if s.useDocker && s.version != "" {
		// A pin beside an image that names its own version was ignored:
		// the image ran as named.
		switch tag := imageref.Tag(s.dockerImage); {
		case strings.Contains(s.dockerImage, "@"):
			return &OptionError{Connector: name, Option: "WithVersion",
				Reason: fmt.Sprintf("the image %s names its digest; give the version in one place", s.dockerImage)}
		case tag != "" && tag != s.version:
			return &OptionError{Connector: name, Option: "WithVersion",
				Reason: fmt.Sprintf("the image %s names its tag; give the version in one place", s.dockerImage)}
		}
	}
	if kind == core.KindDestination && len(s.streams) > 0 {
		return &OptionError{Connector: name, Option: "WithStreams",
			Reason: "a destination writes the streams of what it is given; select streams on the source, or pass destination.Streams to Write"}
	}
	return nil
}

// The ways a connector runs when no way is chosen, for checkWay: a
// manifest-only connector of the registry from its published manifest, a
// connector registered in the Environment in process, an executable of its
// name on PATH, the PyPI package or the Docker image of its registry entry.
const (
	wayRegistryManifest  = "its published manifest"
	wayInProcess         = "in process"
	wayInProcessManifest = "in process, a manifest engine" // source-declarative-manifest
	wayOnPath            = "the executable on PATH"
	wayRegistryPython    = "its PyPI package"
	wayRegistryDocker    = "its Docker image"
)

// wayPhrase says how a connector run the way named runs, for messages.
func wayPhrase(way string) string {
	switch way {
	case wayRegistryManifest:
		return "from its published manifest"
	case wayInProcess, wayInProcessManifest:
		return "in process, as registered in its Environment"
	case wayOnPath:
		return "as the executable of its name on PATH"
	case wayRegistryPython:
		return "from its PyPI package, as its registry entry offers"
	case wayRegistryDocker:
		return "in its Docker image, as its registry entry offers"
	}
	return "with " + way
}

// inProcess says whether a way of checkWay runs the connector in process,
// where WithVersion("latest"), which pins nothing, asks for the build there.
func inProcess(way string) bool {
	return way == wayInProcess || way == wayInProcessManifest || way == "WithGoConnector"
}

// checkWay reports the first knob given that does not apply to the way
// the connector runs (an explicit option's name, or wayRegistryManifest).
func (s *settings) checkWay(name, way string) error {
	const local, docker, python = "WithLocalExecutable", "WithDockerImage", "WithPipURL/WithPython"
	// A way the resolution chose takes the knobs of the way an option
	// chooses alike; only the messages tell them apart.
	fitsAs := way
	switch way {
	case wayOnPath:
		fitsAs = local
	case wayRegistryPython:
		fitsAs = python
	case wayRegistryDocker:
		fitsAs = docker
	}
	misfit := func(option string, set bool, fits ...string) error {
		if !set || slices.Contains(fits, fitsAs) {
			return nil
		}
		reason := "it does not apply to a connector run " + wayPhrase(way)
		if ways := waysTaking(fits); way == wayInProcess && ways != "" {
			reason += ": drop it, or run Airbyte's build of the connector with " + ways
		}
		return &OptionError{Connector: name, Option: option, Reason: reason}
	}
	for _, err := range []error{
		misfit("WithHostNetwork", s.hostNetwork, docker),
		misfit("WithLocalMount", len(s.mounts) > 0, docker),
		misfit("WithInstallRoot", s.installRoot != "", python),
		misfit("WithEnv", len(s.procEnv) > 0, local, docker, python),
		misfit("WithVersion", s.version != "" && !(s.version == "latest" && inProcess(way)), local, docker, python, wayRegistryManifest),
		// true is the default restated (PyAirbyte's install_if_missing=True):
		// it asks for nothing a connector with nothing to install leaves undone.
		misfit("WithInstallIfMissing", s.installIfMissing != nil && !*s.installIfMissing, docker, python),
		misfit("WithLogDir", s.logDir != "", local, docker, python),
		misfit("WithHTTPClient", s.httpClient != nil, wayManifest, wayRegistryManifest, wayInProcessManifest),
		misfit("WithClock", s.clock != nil, wayManifest, wayRegistryManifest, wayInProcessManifest),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// waysTaking names the options that choose the ways fits lists, those a
// knob of checkWay applies to, for an error that says what to use instead
// of a connector registered in process: `WithDockerImage(""), WithPipURL or
// WithLocalExecutable`.
func waysTaking(fits []string) string {
	var ways []string
	for _, w := range []struct{ fit, option string }{
		{"WithDockerImage", `WithDockerImage("")`}, {"WithPipURL/WithPython", "WithPipURL"}, {"WithLocalExecutable", "WithLocalExecutable"},
	} {
		if slices.Contains(fits, w.fit) {
			ways = append(ways, w.option)
		}
	}
	if len(ways) < 2 {
		return strings.Join(ways, "")
	}
	return strings.Join(ways[:len(ways)-1], ", ") + " or " + ways[len(ways)-1]
}

// checkResolved reports the knobs given to a connector that, with no way
// chosen, resolved to a way they do not apply to: the manifest knobs to
// anything but a manifest; the knobs of a process, a container or a
// virtualenv to a connector registered in process, which has none; the
// knobs of a virtualenv or of installing to an executable on PATH, and of
// a virtualenv to the registry's Docker image.
func (s *settings) checkResolved(name string, r resolved) error {
	if r.manifest {
		if r.inProcess {
			return s.checkWay(name, wayInProcessManifest)
		}
		return nil
	}
	for _, o := range []struct {
		option string
		set    bool
	}{{"WithHTTPClient", s.httpClient != nil}, {"WithClock", s.clock != nil}} {
		if o.set {
			return &OptionError{Connector: name, Option: o.option, Reason: fmt.Sprintf(
				"it applies only to a connector run from a declarative manifest, and this one runs as %s", r.exec)}
		}
	}
	if r.inProcess {
		return s.checkWay(name, wayInProcess)
	}
	if r.way != "" {
		return s.checkWay(name, r.way)
	}
	return nil
}

// resolve decides how the connector runs and builds its executor: the way
// the options chose, else as PyAirbyte decides (a connector registered in
// process, an executable on PATH, then the registry).
func (s *settings) resolve(ctx context.Context, kind core.Kind, name string, env *Environment, rt executor.Runtime) (resolved, error) {
	rv := &resolver{s: s, kind: kind, name: name, env: env, rt: rt}
	if r, chosen, err := rv.chosen(ctx); chosen {
		return r, err
	}
	// No way chosen: decide as PyAirbyte does. "latest" pins nothing: the
	// build in process is the newest there is here.
	if s.version == "" || s.version == "latest" {
		if c, ok := env.inProcess(name); ok {
			return rv.inProcess(c)
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		r, err := rv.build(s.local(path), s.version)
		r.way = wayOnPath
		return r, err
	}
	return rv.fromRegistry(ctx)
}

// resolver is one resolve: what its steps share to build the executor of
// connector name, of the kind asked for.
type resolver struct {
	s    *settings
	kind core.Kind
	name string
	env  *Environment
	rt   executor.Runtime
}

// build makes the executor of method m, which runs version ("" unknown).
func (rv *resolver) build(m executor.Method, version string) (resolved, error) {
	ex, err := executor.New(rv.name, m, rv.rt)
	if err != nil {
		return resolved{}, err
	}
	r := resolved{exec: ex, version: version}
	if m.Kind == executor.KindPython && m.Version != "" && !rv.rt.NoInstall {
		r.pinned = true
	}
	return r, nil
}

// docker is the method of running image, with the container knobs given.
func (rv *resolver) docker(image string) executor.Method {
	s := rv.s
	return executor.Method{Kind: executor.KindDocker, Image: image, HostNetwork: s.hostNetwork, Mounts: s.mounts, Env: s.procEnv}
}

// chosen resolves the way the options chose; chosen is false when they
// chose none.
func (rv *resolver) chosen(ctx context.Context) (r resolved, chosen bool, err error) {
	s, name := rv.s, rv.name
	switch {
	case s.manifest != nil:
		text, from, err := s.manifestText(ctx, name)
		if err != nil {
			return resolved{}, true, err
		}
		r, err := s.native(name, text, from, rv.rt, rv.env)
		return r, true, err
	case s.custom != nil:
		r = resolved{exec: s.custom, version: s.version}
	case s.goConnector != nil:
		// As for one registered in process: a destination given as a
		// source (or the reverse) fails here, not at its first read.
		src, dst := kitRoles(s.goConnector)
		if err := kindMismatch(name, rv.kind, src, dst); err != nil {
			return resolved{}, true, err
		}
		r, err = rv.build(executor.Method{Kind: executor.KindInProcess, Connector: s.goConnector}, "")
	case s.useLocal:
		r, err = rv.build(s.local(s.localPath), s.version)
	case s.usePython:
		r, err = rv.build(rv.python(s.pipURL, s.python), s.version)
	case s.useDocker || s.hostNetwork || len(s.mounts) > 0:
		image := s.dockerImage
		if image == "" {
			image = defaultImage(ctx, rv.env, name, s.version)
		} else if imageref.Tag(image) == "" && !strings.Contains(image, "@") {
			image += ":" + orLatest(s.version)
		}
		r, err = rv.build(rv.docker(image), imageref.Tag(image))
	default:
		return resolved{}, false, nil
	}
	return r, true, err
}

// inProcess runs c, the connector registered in the Environment under the
// name, in process.
func (rv *resolver) inProcess(c any) (resolved, error) {
	s, name := rv.s, rv.name
	src, dst := kitRoles(c)
	if !src && !dst {
		return resolved{}, fmt.Errorf("%s: the connector registered under this name (Environment.RegisterConnector) is %T, %s: %s", name, c, notAKitConnector, kitMismatch(c))
	}
	if err := kindMismatch(name, rv.kind, src, dst); err != nil {
		return resolved{}, err
	}
	// source-declarative-manifest runs the manifests its configs
	// carry on the engine a manifest given runs on: it takes the
	// engine's knobs the same way, in an engine made with them.
	_, engine := c.(*manifestsource.Source)
	if engine && (s.engineClient(rv.env) != nil || s.clock != nil) {
		c = manifestsource.New(s.engineOptions(name, rv.rt, rv.env)...)
	}
	rv.env.Logger().Debug("connector runs in process", "connector", name)
	r, err := rv.build(executor.Method{Kind: executor.KindInProcess, Connector: c}, ownVersion(name, c))
	r.inProcess, r.manifest = true, engine
	return r, err
}

// fromRegistry resolves the way the registry's entry for the name offers
// and this machine can run: a manifest run natively, else the method
// runmethod.Choose picks.
func (rv *resolver) fromRegistry(ctx context.Context) (resolved, error) {
	s, name, env := rv.s, rv.name, rv.env
	entry, err := env.Registry().Lookup(ctx, name)
	if err != nil {
		return resolved{}, &NoMethodError{Connector: name, Err: err}
	}
	if err := kindMismatch(name, rv.kind, entry.Kind == registry.KindSource, entry.Kind == registry.KindDestination); err != nil {
		return resolved{}, err
	}
	if entry.Supports(registry.InstallYAML) {
		return s.fromRegistryManifest(ctx, entry, env, rv.rt, func(image string) (resolved, error) {
			return rv.build(rv.docker(image), imageref.Tag(image))
		})
	}
	m, err := runmethod.Choose(ctx, entry, s.version, runmethod.Probes{})
	if nm := (*runmethod.NoMethodError)(nil); errors.As(err, &nm) {
		needs := nm.Needs
		if entry.BuiltIn && (s.version == "" || s.version == "latest") {
			// One of goairbyte's own connectors, not registered in process
			// here: a program that imports only source, destination or cache
			// (to build without cgo) lacks the root package that registers it.
			needs = append([]string{"the import of package github.com/x/goairbyte, which runs goairbyte's own connectors in process"}, needs...)
		}
		return resolved{}, &NoMethodError{Connector: name, Needs: needs}
	}
	if err != nil {
		return resolved{}, err
	}
	env.Logger().Debug("execution method chosen from the registry", "connector", name, "method", m.String())
	var r resolved
	switch m.Kind {
	case runmethod.Executable:
		r, err = rv.build(s.local(m.Executable), s.version)
		r.way = wayOnPath
	case runmethod.Python:
		r, err = rv.build(rv.python(m.PipRequirement, m.Python), s.version)
		r.way = wayRegistryPython
	default: // runmethod.Docker
		r, err = rv.build(rv.docker(m.DockerImage), imageref.Tag(m.DockerImage))
		r.way = wayRegistryDocker
	}
	return r, err
}

// kindMismatch refuses a name that stands for a connector of the other
// kind (isSource and isDestination say what it is), before anything is
// installed or pulled: its first command would fail, later and less
// clearly.
func kindMismatch(name string, want core.Kind, isSource, isDestination bool) error {
	if (want == core.KindSource && isSource) || (want == core.KindDestination && isDestination) || (!isSource && !isDestination) {
		return nil
	}
	other := core.KindDestination
	if want == core.KindDestination {
		other = core.KindSource
	}
	return &OptionError{Connector: name, Reason: fmt.Sprintf("%s is a %s, not a %s; get it as a %s (goairbyte.Get%s)",
		name, other, want, other, strings.ToUpper(other.String()[:1])+other.String()[1:])}
}

func (s *settings) local(path string) executor.Method {
	if !strings.ContainsRune(path, '/') {
		if found, err := exec.LookPath(path); err == nil {
			path = found
		}
	}
	return executor.Method{Kind: executor.KindLocal, Path: path, Version: s.version, Env: s.procEnv}
}

// python is the method of running requirement in a virtualenv made with
// interpreter, under the install root WithInstallRoot gives, else the
// Environment's ($AIRBYTE_INSTALL_DIR, else $AIRBYTE_PROJECT_DIR, else the
// working directory).
func (rv *resolver) python(requirement, interpreter string) executor.Method {
	s := rv.s
	root := s.installRoot
	if root == "" {
		root = rv.env.installRoot
	}
	m := executor.Method{Kind: executor.KindPython, Requirement: requirement, Interpreter: interpreter,
		InstallRoot: root, Env: s.procEnv}
	if s.version != "latest" {
		m.Version = s.version
	}
	return m
}

// defaultImage is the connector's image when none is named: its registry
// image, or airbyte/<name> when the registry does not know it or cannot be
// read; tagged with the version, else the registry's, else "latest".
func defaultImage(ctx context.Context, env *Environment, name, version string) string {
	if c, err := env.Registry().Lookup(ctx, name); err == nil && c.DockerRepository != "" {
		return runmethod.DockerImage(c, version)
	}
	return "airbyte/" + name + ":" + orLatest(version)
}

func orLatest(version string) string {
	if version == "" {
		return "latest"
	}
	return version
}

// kitRoles reports whether c, a Go connector, is a kit.Source and a
// kit.Destination.
func kitRoles(c any) (src, dst bool) {
	_, src = c.(kit.Source)
	_, dst = c.(kit.Destination)
	return src, dst
}

// kitMismatch says what c, a Go connector that is neither a kit.Source nor
// a kit.Destination, lacks to be one.
func kitMismatch(c any) string {
	return kitcore.Mismatch(c, reflect.TypeFor[kit.Source](), reflect.TypeFor[kit.Destination]())
}

// notAKitConnector says what a Go connector must be.
const notAKitConnector = "neither a kit.Source (Spec, Check, Discover, Read) nor a kit.Destination (Spec, Check, Write)"

// ownVersion is the version of c, registered in process as name, when it
// is goairbyte's own connector of that name (a type of our connectors'
// packages: a program may register its own under the name); "" otherwise.
func ownVersion(name string, c any) string {
	t := reflect.TypeOf(c)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	id, ok := builtin.Lookup(name)
	if !ok || !strings.HasPrefix(t.PkgPath(), "github.com/x/goairbyte/connectors/") {
		return ""
	}
	return id.Version
}
