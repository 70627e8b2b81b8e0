package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/atomicfile"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/spelling"
	"github.com/x/goairbyte/secrets"
	"github.com/x/goairbyte/source"
)

// newFlagSet returns the flag set of command c. It prints nothing itself:
// parse turns its errors into usage errors and --help into the help text.
func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("goab "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args with fs, allowing flags and positional arguments in any
// order ("goab check source-faker --config c.json" and "goab check --config
// c.json source-faker" both work), and returns the positional arguments. A
// --help prints the command's help on stdout and returns errHelpShown.
func parse(c *command, e *env, fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(e.stdout, c, fs)
				return nil, errHelpShown
			}
			msg := strings.Replace(err.Error(), "flag provided but not defined: -", "unknown flag --", 1)
			msg = strings.Replace(msg, " for flag -", " for --", 1) // invalid value "x" for flag -count
			if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
				if near := nearFlag(fs, name); near != "" {
					msg += " (did you mean --" + near + "?)"
				} else if hint := pyabFlag(c, fs, strings.TrimLeft(name, "-")); hint != "" {
					msg += " (" + hint + ")"
				}
			}
			return nil, usagef(c.name, "%s", msg)
		}
		if fs.NArg() == 0 {
			return positional, checkChoices(c, fs)
		}
		if err := pythonValueApart(c, fs, args); err != nil {
			return nil, err
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// pythonValueApart refuses an interpreter given to --use-python after a
// space (--use-python /usr/bin/python3): the flag stands alone too, so the
// interpreter would be taken for a positional argument, and the error
// would not say that it needs "=". args are those fs just parsed.
func pythonValueApart(c *command, fs *flag.FlagSet, args []string) error {
	i := len(args) - fs.NArg() - 1
	if i < 0 {
		return nil
	}
	name := strings.TrimLeft(args[i], "-")
	if f := fs.Lookup(name); f == nil || !strings.HasPrefix(args[i], "-") {
		return nil
	} else if _, ok := f.Value.(*pythonFlag); !ok {
		return nil
	}
	if v := fs.Arg(0); strings.Contains(filepath.Base(v), "python") {
		return usagef(c.name, "--%s takes its interpreter after \"=\": --%s=%s", name, name, v)
	}
	return nil
}

// pyabFlag says what goab takes for one of pyab's flags that command c
// lacks, as a PyAirbyte user types them (pyab validate --connector NAME,
// pyab benchmark --source NAME --num-records N); "" for any other name.
func pyabFlag(c *command, fs *flag.FlagSet, name string) string {
	switch {
	case name == "connector" || name == "source":
		return fmt.Sprintf("goab takes the %s as its first argument: goab %s source-faker", name, c.name)
	case name == "num-records" && fs.Lookup("count") != nil:
		return fmt.Sprintf("goab %s's is --count", c.name)
	}
	return ""
}

// nearFlag returns the flag of fs that the unknown flag name most likely
// meant: one letter added, dropped, changed or two swapped (--stream for
// read's --streams, --scheme for --schema); "" when none is that near.
func nearFlag(fs *flag.FlagSet, name string) string {
	name = strings.TrimLeft(name, "-")
	best, bestD := "", 2
	fs.VisitAll(func(f *flag.Flag) {
		if d := spelling.Distance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// choice is a string flag limited to a few values; parse refuses any
// other, so commands read it without checking.
type choice struct {
	value   string
	allowed []string
}

func (ch *choice) String() string     { return ch.value }
func (ch *choice) Set(s string) error { ch.value = s; return nil }

// choiceFlag defines a flag whose value must be one of allowed (or its
// default def, which may be "" for "not given").
func choiceFlag(fs *flag.FlagSet, name, def, usage string, allowed ...string) *choice {
	ch := &choice{value: def, allowed: allowed}
	fs.Var(ch, name, usage)
	return ch
}

// checkChoices fails on the first choice flag given a value it does not
// allow.
func checkChoices(c *command, fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if ch, ok := f.Value.(*choice); ok && err == nil && !slices.Contains(ch.allowed, ch.value) {
			list := strings.Join(ch.allowed[:len(ch.allowed)-1], ", ") + " or " + ch.allowed[len(ch.allowed)-1]
			err = usagef(c.name, "--%s must be %s, not %q", f.Name, list, ch.value)
		}
	})
	return err
}

// printUsage writes command c's help: synopsis, summary, flags, example.
func printUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: goab %s\n\n%s\n", c.synopsis, c.summary)
	if fs != nil {
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if first {
				fmt.Fprintf(w, "\nFlags:\n")
				first = false
			}
			typ, usage := flag.UnquoteUsage(f)
			if ch, ok := f.Value.(*choice); ok {
				typ = strings.Join(ch.allowed, "|")
			}
			dashes := "--"
			if len(f.Name) == 1 {
				dashes = "-" // -f, as the synopsis writes it
			}
			fmt.Fprintf(w, "  %s%s\n", dashes, strings.TrimSpace(f.Name+" "+typ))
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "        %s\n", usage)
		})
	}
	if fs != nil && fs.Lookup("local-executable") != nil {
		fmt.Fprintf(w, "\nConnector logs:\n%s\n", wrap(logsHelp(), 100, "  "))
	}
	fmt.Fprintf(w, "\nExample:\n%s\n", indent(c.example))
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}

// connectorFlags are the flags that choose and configure one connector,
// the same on every command. For the destination of sync they carry the
// prefix "destination-".
type connectorFlags struct {
	prefix      string
	name        string // --destination only; a source's name is positional
	dockerImage string
	dockerSet   bool
	local       string
	pipURL      string
	python      pythonFlag
	version     string
	hostNetwork bool
	config      string
}

// pythonFlag is --use-python: alone, python3 from PATH; with a value, that
// interpreter (PyAirbyte's use_python).
type pythonFlag struct{ interpreter string }

func (p *pythonFlag) String() string { return p.interpreter }
func (p *pythonFlag) Set(v string) error {
	switch v {
	case "true":
		p.interpreter = "python3"
	case "false", "":
		p.interpreter = ""
	default:
		p.interpreter = v
	}
	return nil
}

// IsBoolFlag lets --use-python stand alone.
func (p *pythonFlag) IsBoolFlag() bool { return true }

// addConnectorFlags registers the connector flags on fs; what is "source"
// or "destination", for the help text.
func addConnectorFlags(fs *flag.FlagSet, prefix, what string) *connectorFlags {
	f := &connectorFlags{prefix: prefix}
	fs.StringVar(&f.local, prefix+"local-executable", "", "run the "+what+" as this executable (a path, or a name on PATH)")
	fs.StringVar(&f.dockerImage, prefix+"docker-image", "", "run the "+what+" in Docker with this image; '' means the registry's image, else airbyte/<name>")
	fs.StringVar(&f.pipURL, prefix+"pip-url", "", "run the "+what+" from a Python virtualenv with this pip requirement (name, URL or path)")
	fs.Var(&f.python, prefix+"use-python", "run the "+what+" from a Python virtualenv made with python3, or with --"+prefix+"use-python=INTERPRETER with that one (installs airbyte-<name>, or the --"+prefix+"pip-url)")
	fs.StringVar(&f.version, prefix+"version", "", "the "+what+"'s version: the Docker tag, the Python package version, or a manifest-only connector's published manifest version")
	fs.BoolVar(&f.hostNetwork, prefix+"use-host-network", false, "run the "+what+"'s container on the host network (to reach services on localhost)")
	fs.StringVar(&f.config, prefix+"config", "", "the "+what+"'s config: a JSON or YAML file, or inline JSON or YAML; values \"secret_reference::NAME\" (or pyab's \"SECRET:NAME\") are looked up as secrets; a config the connector updates (a rotated OAuth token) is written back over the file, as JSON")
	return f
}

// visited records which flags were given, since an empty --docker-image is
// meaningful.
func (f *connectorFlags) visited(fs *flag.FlagSet) {
	f.dockerSet = flagGiven(fs, f.prefix+"docker-image")
}

// specArgs returns the flags of goab spec that run the connector as f
// (and a source's manifest) say: " --local-executable ./x", or "" when
// its name alone does.
func (f *connectorFlags) specArgs(manifest string) string {
	var b strings.Builder
	add := func(flag, value string) {
		b.WriteString(" --" + flag)
		if value == "" || strings.ContainsAny(value, " \t'\"$`\\*?[]{}()<>|&;#~") {
			value = "'" + strings.ReplaceAll(value, "'", `'\''`) + "'"
		}
		b.WriteString(" " + value)
	}
	switch {
	case manifest != "":
		add("manifest", manifest)
	case f.local != "":
		add("local-executable", f.local)
	case f.dockerSet:
		add("docker-image", f.dockerImage)
	case f.pipURL != "":
		add("pip-url", f.pipURL)
	}
	if f.python.interpreter != "" {
		b.WriteString(" --use-python=" + f.python.interpreter)
	}
	if f.version != "" {
		add("version", f.version)
	}
	return b.String()
}

// connectorName picks the connector's name: given, or derived from the
// executable or the image.
func (f *connectorFlags) connectorName(cmd, given string) (string, error) {
	switch {
	case given != "":
		return given, nil
	case f.local != "":
		return filepath.Base(f.local), nil
	case f.dockerImage != "":
		img := f.dockerImage
		if i := strings.IndexByte(img, '@'); i >= 0 {
			img = img[:i]
		}
		img = img[strings.LastIndexByte(img, '/')+1:]
		if i := strings.IndexByte(img, ':'); i >= 0 {
			img = img[:i]
		}
		return img, nil
	}
	what := "a connector name (such as source-faker)"
	if f.prefix != "" {
		what = "--destination (such as destination-local-json)"
	}
	return "", usagef(cmd, "%s is required, or one of --%slocal-executable or --%sdocker-image to derive it from", what, f.prefix, f.prefix)
}

// connectorOptions turns the flags into connector options, config
// included; the connector belongs to goab's Environment.
func connectorOptions(ctx context.Context, e *env, cmd string, f *connectorFlags) ([]connector.Option, error) {
	opts := []connector.Option{connector.WithEnvironment(e.conns)}
	if f.local != "" {
		opts = append(opts, connector.WithLocalExecutable(f.local))
	}
	if f.dockerSet {
		opts = append(opts, connector.WithDockerImage(f.dockerImage))
	}
	if f.pipURL != "" {
		opts = append(opts, connector.WithPipURL(f.pipURL))
	}
	if f.python.interpreter != "" {
		opts = append(opts, connector.WithPython(f.python.interpreter))
	}
	if f.version != "" {
		opts = append(opts, connector.WithVersion(f.version))
	}
	if f.hostNetwork {
		opts = append(opts, connector.WithHostNetwork(true))
	}
	cfg, file, err := loadConfig(cmd, f.prefix+"config", f.config)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		opts = append(opts, connector.WithConfig(cfg), connector.WithConfigChangeCallback(keepConfig(e, f.prefix+"config", file)))
	}
	return opts, nil
}

// keepConfig returns the WithConfigChangeCallback of a connector whose
// --config came from file ("" for an inline one). A connector that updates
// its config (a rotated OAuth refresh token, which the API takes once) has
// the new one written over the file, as JSON, since the next run needs it;
// goab said nothing, the file kept the spent token, and the next nightly
// run failed with invalid_grant. An inline config cannot keep it: that is
// said. The config written names secrets by reference, as given.
func keepConfig(e *env, flagName, file string) func(map[string]any) {
	return func(cfg map[string]any) {
		log := e.conns.Logger()
		if file == "" {
			log.Warn("the connector updated its config (such as a rotated OAuth token), which an inline --" + flagName +
				" cannot keep: the next run gets the old one; pass the config as a file, which goab then updates")
			return
		}
		if err := writeConfig(file, cfg); err != nil {
			log.Warn("the connector updated its config (such as a rotated OAuth token) and goab could not save it: the next run gets the old one",
				"file", file, "err", err)
			return
		}
		log.Warn("the connector updated its config (such as a rotated OAuth token): saved over the --"+flagName+" file, as JSON, for the next run", "file", file)
	}
}

// writeConfig replaces the config file with cfg as indented JSON, keeping
// its permissions (a symbolic link is followed), so that a crash leaves the
// old file or the new one.
func writeConfig(file string, cfg map[string]any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	target, err := filepath.EvalSymlinks(file)
	if err != nil {
		return err
	}
	info, err := os.Stat(target)
	if err != nil {
		return err
	}
	return atomicfile.Write(target, b.Bytes(), info.Mode().Perm())
}

// manifestWay is the way of running a source from its manifest, for a
// list of goab's ways: --manifest runs sources only.
func manifestWay(name, prefix string) string {
	if prefix != "" || strings.HasPrefix(name, "destination-") {
		return ""
	}
	return ", --manifest MANIFEST (a declarative source)"
}

// connectorError turns the library's "cannot tell how to run it" errors
// and options that do not fit into usage errors that name goab's flags
// (prefix is "" or "destination-"); see cliAdvice for the others.
func connectorError(cmd, name, prefix string, err error) error {
	var oe *connector.OptionError
	var nm *connector.NoMethodError
	switch {
	case errors.As(err, &oe) && strings.Contains(oe.Option, " and "):
		return usagef(cmd, "choose one of --%[1]slocal-executable, --%[1]sdocker-image (or --%[1]suse-host-network), --%[1]spip-url (or --%[1]suse-python) and --manifest, not several", prefix)
	case errors.As(err, &oe) && oe.Option == "WithVersion" && strings.Contains(oe.Reason, "WithManifest"):
		return usagef(cmd, "--version does not apply to --manifest: the manifest is the version")
	case errors.As(err, &nm) && len(nm.Needs) > 0:
		return usagef(cmd, "cannot run %[1]s on this machine; any one of these would do: %[3]s; or say how with --%[2]slocal-executable PATH, --%[2]sdocker-image IMAGE%[4]s or --%[2]spip-url REQUIREMENT", name, prefix, strings.Join(nm.Needs, "; "), manifestWay(name, prefix))
	case errors.As(err, &nm):
		return usagef(cmd, "no executable named %[1]s on PATH and the registry cannot say how to run it (%[3]v); say how with --%[2]slocal-executable PATH, --%[2]sdocker-image '' (airbyte/%[1]s)%[4]s or --%[2]spip-url REQUIREMENT", name, prefix, cliAdvice(prefix, nm.Err), manifestWay(name, prefix))
	case errors.As(err, &oe):
		// The flags do not fit each other or the connector.
		return usagef(cmd, "%s", cliAdvice(prefix, err))
	}
	return cliAdvice(prefix, err)
}

// loadConfig reads a --config value: a file holding JSON or YAML, or the
// JSON or YAML itself; file is the file's path, "" for an inline value. A
// value that is neither an existing file nor an inline mapping is a usage
// error. secret_reference::NAME values stay references: askSecrets
// resolves them once the connector is built.
func loadConfig(cmd, flagName, value string) (cfg map[string]any, file string, err error) {
	if strings.TrimSpace(value) == "" {
		return nil, "", nil
	}
	text, origin := []byte(value), "inline --"+flagName
	trimmed := strings.TrimSpace(value)
	if !strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "[") && !strings.Contains(trimmed, "\n") {
		b, err := os.ReadFile(value)
		switch {
		case err == nil:
			text, origin, file = b, "config file "+value, value
		case !strings.Contains(trimmed, ": "):
			// Not a file, and not "key: value" YAML either.
			return nil, "", usagef(cmd, "cannot read the --%s file %s: %v; pass a JSON or YAML file or inline JSON such as '{\"count\": 100}'", flagName, value, errors.Unwrap(err))
		}
	}
	if t := bytes.TrimSpace(text); len(t) > 0 && t[0] == '{' {
		// JSON first, keeping numbers exact; YAML would also parse it, but
		// JSON's error messages are clearer for JSON.
		d := json.NewDecoder(bytes.NewReader(t))
		d.UseNumber()
		if err = d.Decode(&cfg); err != nil {
			// Not JSON, but it may be YAML's flow style, which takes
			// what JSON refuses, such as a trailing comma: a YAML config.
			if y, yerr := decodeYAMLConfig(text); yerr == nil && y != nil {
				cfg, err = y, nil
			}
		}
	} else {
		cfg, err = decodeYAMLConfig(text)
	}
	if err != nil {
		var any any
		if yaml.Unmarshal(text, &any) == nil && any != nil && !isMapping(any) {
			// Valid, but a list or a plain value.
			return nil, "", usagef(cmd, "the %s must be an object of config fields, such as '{\"count\": 100}', not %s", origin, kindOf(any))
		}
		return nil, "", usagef(cmd, "the %s is not a JSON or YAML object: %v", origin, err)
	}
	if cfg == nil {
		return nil, "", usagef(cmd, "the %s is empty; it must be a JSON or YAML object", origin)
	}
	pyabSecrets(cfg)
	return cfg, file, nil
}

// pyabPrefix is how pyab's --config names a secret: "SECRET:NAME".
const pyabPrefix = "SECRET:"

// pyabSecrets turns pyab's "SECRET:NAME" values, at any depth, into the
// library's secret_reference::NAME, so that a pyab command line's config
// reaches the connector with its secrets (resolved and masked as any
// reference), not with the text "SECRET:NAME".
func pyabSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = pyabSecrets(e)
		}
	case []any:
		for i, e := range x {
			x[i] = pyabSecrets(e)
		}
	case string:
		if name, ok := strings.CutPrefix(x, pyabPrefix); ok && strings.TrimSpace(name) != "" {
			return secrets.ReferencePrefix + strings.TrimSpace(name)
		}
	}
	return v
}

// askSecrets resolves the secret references of c's config (if one was
// given) now, within the operation the goab command is (see run): a
// prompt is shown before any progress, a secret no one has fails the
// command before anything runs, and the runs that follow use what was
// resolved here, so a secret that the source's and the destination's
// configs both name is asked for once.
func askSecrets(ctx context.Context, c *connector.Connector) error {
	conn := core.ConnOf(c)
	if !conn.HasConfig() {
		return nil
	}
	_, err := conn.ResolvedConfig(ctx)
	return err
}

// decodeYAMLConfig decodes a YAML config as it is written. A config is
// JSON for the connector, which has no dates: a plain 2024-01-01 or
// 2024-01-01 10:00:00, which YAML resolves to a timestamp (and yaml.v3 to a
// time.Time, sent as "2024-01-01T00:00:00Z"), stays the string the user
// typed, the form start dates are specified in. Mapping keys that YAML
// resolves to numbers, booleans or timestamps stay strings too: JSON keys
// are strings. A number written as JSON writes it stays its text (a
// json.Number, as from a JSON config): yaml.v3 would round an integer
// beyond 64 bits, or a decimal with more digits than a float64 holds.
func decodeYAMLConfig(text []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, nil // empty
	}
	// Numbers are decoded as strings that start with mark, a prefix no
	// string of the document starts with, then made json.Numbers.
	mark := "\x00number:"
	for markUsed(&doc, mark) {
		mark += "\x00"
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		// A plain scalar in JSON's number form is a number even where
		// yaml.v3 resolves it to a string, as it does 1e400, beyond a
		// float64: JSON keeps it as its text.
		if n.Kind == yaml.ScalarNode && n.Style == 0 && jsonNumber.MatchString(n.Value) {
			switch n.ShortTag() {
			case "!!int", "!!float", "!!str":
				n.Tag, n.Value = "!!str", mark+n.Value
			}
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
			n.Tag = "!!str"
		}
		for i, c := range n.Content {
			if n.Kind != yaml.MappingNode || i%2 == 1 {
				walk(c) // an alias's target is walked where it is defined
				continue
			}
			// A key is the text written, a string. An alias to a scalar
			// (defined before it, so already walked) is its target's text:
			// decoded as is, a marked number would reach the connector.
			if c.Kind == yaml.AliasNode && c.Alias != nil && c.Alias.Kind == yaml.ScalarNode {
				c = &yaml.Node{Kind: yaml.ScalarNode, Tag: c.Alias.Tag, Style: c.Alias.Style,
					Value: strings.TrimPrefix(c.Alias.Value, mark)}
				n.Content[i] = c
			}
			if c.Kind == yaml.ScalarNode {
				switch c.ShortTag() {
				case "!!int", "!!float", "!!bool", "!!timestamp":
					c.Tag = "!!str"
				}
				continue
			}
			walk(c)
		}
	}
	walk(&doc)
	var cfg map[string]any
	if err := doc.Decode(&cfg); err != nil {
		return nil, err
	}
	return unmarkNumbers(cfg, mark).(map[string]any), nil
}

// jsonNumber matches a number as JSON writes it, the form json.Number holds.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// markUsed reports whether a scalar of the tree under n starts with mark.
func markUsed(n *yaml.Node, mark string) bool {
	if n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, mark) {
		return true
	}
	return slices.ContainsFunc(n.Content, func(c *yaml.Node) bool { return markUsed(c, mark) })
}

// unmarkNumbers turns the strings of v that start with mark into the
// json.Numbers they stand for, in place.
func unmarkNumbers(v any, mark string) any {
	switch v := v.(type) {
	case string:
		if n, ok := strings.CutPrefix(v, mark); ok {
			return json.Number(n)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = unmarkNumbers(e, mark)
		}
	case []any:
		for i, e := range v {
			v[i] = unmarkNumbers(e, mark)
		}
	}
	return v
}

// kindOf names the kind of a decoded JSON or YAML value for messages.
func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// isMapping reports whether v, a YAML document decoded, is a mapping.
func isMapping(v any) bool {
	switch v.(type) {
	case map[string]any, map[any]any:
		return true
	}
	return false
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sourceCommand holds what every command that runs a source parses.
type sourceCommand struct {
	conn     *connectorFlags
	streams  string
	manifest string
}

// addSourceFlags registers the connector flags, --manifest and --streams.
func addSourceFlags(fs *flag.FlagSet) *sourceCommand {
	sc := &sourceCommand{conn: addConnectorFlags(fs, "", "source")}
	fs.StringVar(&sc.manifest, "manifest", "", "run the source natively from this declarative manifest (a manifest.yaml path or URL), with no Python or Docker")
	fs.StringVar(&sc.streams, "streams", "", "comma-separated streams to use, such as users,purchases (default: all)")
	return sc
}

// manifestName is the name of a source run from a manifest when none is
// given: the manifest's directory (source-pokeapi/manifest.yaml) or file
// (source-pokeapi.yaml) when it is named like a source, else
// source-manifest.
func manifestName(manifest string) string {
	ref := manifest
	if u, err := url.Parse(manifest); err == nil && u.Scheme != "" {
		ref = u.Path
	}
	for _, cand := range []string{path.Base(path.Dir(filepath.ToSlash(ref))), strings.TrimSuffix(path.Base(filepath.ToSlash(ref)), path.Ext(ref))} {
		if strings.HasPrefix(cand, "source-") {
			return cand
		}
	}
	return "source-manifest"
}

// newSource parses args and builds the source they describe. check, when
// not nil, validates the command's own flags first, so that a usage error
// is reported before anything is looked up.
func newSource(ctx context.Context, c *command, e *env, fs *flag.FlagSet, sc *sourceCommand, args []string, check func() error) (*source.Source, error) {
	pos, err := parse(c, e, fs, args)
	if err != nil {
		return nil, err
	}
	// An argument too many first: it is often what the command's own
	// check misses ("goab records source-faker users" lacks --stream).
	if len(pos) > 1 {
		return nil, usagef(c.name, "unexpected arguments %q after the connector name %q", strings.Join(pos[1:], " "), pos[0])
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return sourceFromFlags(ctx, c, e, fs, sc, pos)
}

// sourceFromFlags builds the source that parsed flags and positional
// arguments (at most the connector's name) describe.
func sourceFromFlags(ctx context.Context, c *command, e *env, fs *flag.FlagSet, sc *sourceCommand, pos []string) (*source.Source, error) {
	sc.conn.visited(fs)
	if len(pos) > 1 {
		return nil, usagef(c.name, "unexpected arguments %q after the connector name %q", strings.Join(pos[1:], " "), pos[0])
	}
	var given string
	if len(pos) == 1 {
		given = pos[0]
	}
	if given == "" && sc.manifest != "" {
		given = manifestName(sc.manifest)
		if given == "source-manifest" && (c.name == "read" || c.name == "sync") {
			// The name keys the cache's tables and state: two manifests
			// read under the one fallback name would share them, the
			// second read starting from the first's state.
			return nil, usagef(c.name, "name the source, as in goab %s source-NAME --manifest %s: its name keys its tables and incremental state in the cache, and another manifest read without a name would take them as its own (a manifest at source-NAME/manifest.yaml or source-NAME.yaml is named by its path)", c.name, sc.manifest)
		}
	}
	name, err := sc.conn.connectorName(c.name, given)
	if err != nil {
		return nil, err
	}
	opts, err := connectorOptions(ctx, e, c.name, sc.conn)
	if err != nil {
		return nil, err
	}
	e.specArgs[name] = sc.conn.specArgs(sc.manifest)
	if sc.manifest != "" {
		if u, err := url.Parse(sc.manifest); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			// A path, as --config's: one that cannot be read is the
			// command line's mistake, named before anything runs.
			if _, err := os.Stat(sc.manifest); err != nil {
				return nil, usagef(c.name, "cannot read the --manifest file %s: %v; pass a manifest.yaml path or an http(s) URL of one", sc.manifest, errors.Unwrap(err))
			}
		}
		opts = append(opts, connector.WithManifest(sc.manifest))
	}
	if s := splitList(sc.streams); len(s) > 0 {
		opts = append(opts, connector.WithStreams(s...))
	}
	src, err := source.New(ctx, name, opts...)
	if err != nil {
		return nil, connectorError(c.name, name, "", err)
	}
	if err := askSecrets(ctx, src.Connector); err != nil {
		return nil, err
	}
	return src, nil
}

// recordCount is a count of records given as a whole number or, as
// PyAirbyte's benchmark takes its --num-records, in scientific notation
// (5e5 is 500,000); a fraction or a count beyond an int64 is refused.
type recordCount int64

func (n *recordCount) String() string { return strconv.FormatInt(int64(*n), 10) }

func (n *recordCount) Set(s string) error {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = recordCount(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
		return errors.New("not a whole number of records (100000, or 1e5)")
	}
	*n = recordCount(f)
	return nil
}
