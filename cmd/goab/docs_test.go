package main_test

import (
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// A docCommand is a goab command line of the docs.
type docCommand struct {
	where string   // file:line
	line  string   // as written, continuation lines joined
	args  []string // after goab
	// run says that the test runs it (a ```sh line of the README, a line
	// of goab's package doc, an inline goab connectors);
	// otherwise it checks only that its flags parse.
	run bool
}

// helpOnly are the goab lines of the README's ```sh blocks and goab's
// package doc that are not run, with the reason; their flags are checked.
// Every other such line runs.
var helpOnly = map[string]string{
	`./goab read     source-faker --docker-image goairbyte/source-faker:0.1.0 --config config.yaml --cache postgres://user:pw@localhost:5432/db --schema airbyte`: "needs the image, a config.yaml and that PostgreSQL server",
	`goab check     --manifest ./source-pokeapi/manifest.yaml --config '{"pokemon_name": "ditto"}'`:                                                               "pokeapi is on the internet",
	`goab read      --manifest ./source-pokeapi/manifest.yaml --config config.yaml --cache ./poke.duckdb`:                                                         "pokeapi is on the internet",
	`goab validate  --manifest https://example.com/manifest.yaml --config config.yaml`:                                                                            "an example URL",
	`goab benchmark --manifest ./source-pokeapi/manifest.yaml --config config.yaml --cache /tmp/bench.duckdb`:                                                     "pokeapi is on the internet",
}

// shellWords splits a command line as sh does for the quoting the docs
// use: single and double quotes, backslashes, and a # comment.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch ch := line[i]; {
		case ch == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				t.Fatalf("unclosed ' in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				t.Fatalf("unclosed \" in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '\\' && i+1 < len(line):
			cur.WriteByte(line[i+1])
			i++
			inWord = true
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '#' && !inWord:
			i = len(line)
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// goabPrefix is how a doc line starts goab.
var goabPrefix = regexp.MustCompile(`^(\$ )?(\./goab|goab|go run \./cmd/goab) `)

// commandOf returns the goab arguments of a doc line, or nil when the line
// does not run goab.
func commandOf(t *testing.T, line string) []string {
	m := goabPrefix.FindString(line)
	if m == "" {
		return nil
	}
	return shellWords(t, line[len(m):])
}

// docCommands returns the goab command lines of the README's ```sh blocks
// and goab's package doc (to run), and, to check their flags, those of the
// README's and the guides' inline code and the guides' blocks.
func docCommands(t *testing.T, root string) []docCommand {
	t.Helper()
	var out []docCommand
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile("`([^`]+)`")
	for _, file := range append([]string{filepath.Join(root, "README.md")}, files...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		rel = filepath.ToSlash(rel)
		lines := strings.Split(string(b), "\n")
		prose := make([]string, len(lines)) // the lines outside fences
		fence := ""
		for i := 0; i < len(lines); i++ {
			line := lines[i]
			if strings.HasPrefix(line, "```") {
				if fence == "" {
					fence = strings.TrimPrefix(line, "```")
					if fence == "" {
						fence = "text"
					}
				} else {
					fence = ""
				}
				continue
			}
			where := rel + ":" + strconv.Itoa(i+1)
			if fence == "" {
				prose[i] = line
			} else {
				if fence != "sh" && fence != "text" {
					continue
				}
				full := strings.TrimSpace(line)
				for strings.HasSuffix(full, "\\") && i+1 < len(lines) {
					i++
					full = strings.TrimSuffix(full, "\\") + " " + strings.TrimSpace(lines[i])
				}
				if args := commandOf(t, full); args != nil {
					text := strings.TrimSpace(strings.SplitN(full, " #", 2)[0])
					out = append(out, docCommand{where: where, line: text, args: args, run: rel == "README.md" && fence == "sh"})
				}
			}
		}
		// Inline code, which may run on to the next line.
		text := strings.Join(prose, "\n")
		for _, m := range inline.FindAllStringSubmatchIndex(text, -1) {
			span := strings.Join(strings.Fields(text[m[2]:m[3]]), " ")
			if strings.ContainsAny(span, "|<") || !strings.Contains(span, " --") {
				continue // "goab plan|apply|…", "goab <command> --help": not command lines
			}
			if args := commandOf(t, span); args != nil {
				line := strings.Count(text[:m[0]], "\n") + 1
				// goab connectors runs offline in an instant: its choice
				// flags are checked only by running it.
				out = append(out, docCommand{where: rel + ":" + strconv.Itoa(line), line: span, args: args, run: args[0] == "connectors"})
			}
		}
	}
	// goab's package doc.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, "cmd", "goab", "main.go"), nil, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var p comment.Parser
	for _, block := range p.Parse(f.Doc.Text()).Content {
		if code, ok := block.(*comment.Code); ok {
			for _, line := range strings.Split(strings.TrimSpace(code.Text), "\n") {
				if args := commandOf(t, line); args != nil {
					out = append(out, docCommand{where: "cmd/goab/main.go", line: strings.TrimSpace(line), args: args, run: true})
				}
			}
		}
	}
	return out
}

// TestDocCommands runs the goab command lines of the README's ```sh blocks
// and of goab's package doc as they are written, in a directory where
// ./build holds the connectors make bin builds, ./source-faker the faker
// and config.yaml a faker config (paths under /tmp/ moved into the test's
// own), and
// checks that the flags of every other goab command line of the docs
// parse (the line with --help appended shows the command's help).
func TestDocCommands(t *testing.T) {
	root := testenv.ModuleRoot(t)
	cmds := docCommands(t, root)
	seen := map[string]bool{}
	runs := 0
	for _, c := range cmds {
		if _, ok := helpOnly[c.line]; ok {
			seen[c.line] = true
		} else if c.run {
			runs++
		}
	}
	for line, why := range helpOnly {
		if !seen[line] {
			t.Errorf("helpOnly lists a line that is no longer in the docs (%s): %s", why, line)
		}
	}
	if runs < 5 || len(cmds) < 20 {
		t.Fatalf("found %d goab lines to run and %d in all: the docs' extraction is broken", runs, len(cmds))
	}
	for _, c := range cmds {
		t.Run(c.where, func(t *testing.T) {
			t.Parallel()
			r := goab(t, nil, append(c.args, "--help")...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: goab "+c.args[0]) {
				t.Fatalf("%s: %s --help: exit status %d:\n%s%s", c.where, c.line, r.code, r.stdout, r.stderr)
			}
			if _, ok := helpOnly[c.line]; ok || !c.run {
				return
			}
			dir := t.TempDir()
			for link, bin := range map[string]string{
				"build/source-faker/source-faker":                     faker(t),
				"build/destination-local-json/destination-local-json": localJSON(t),
				"source-faker": faker(t),
			} {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(link)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(bin, filepath.Join(dir, link)); err != nil {
					t.Fatal(err)
				}
			}
			// The user's config file, for the lines that name one.
			if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("count: 100\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.ReplaceAll(a, "/tmp/", tmp+"/")
			}
			r = goabIn(t, dir, nil, args...)
			if r.code != 0 {
				t.Fatalf("%s: %s: exit status %d\nstdout:\n%s\nstderr:\n%s", c.where, c.line, r.code, r.stdout, r.stderr)
			}
			if i := slices.Index(c.args, "--limit"); c.args[0] == "records" && i > 0 {
				if n := len(strings.Split(strings.TrimSpace(r.stdout), "\n")); strconv.Itoa(n) != c.args[i+1] {
					t.Errorf("%s: %s printed %d records:\n%s", c.where, c.line, n, r.stdout)
				}
			}
		})
	}
}

// TestDocCommandFlags checks the flags the README's section on goab names
// in its prose: the connector flags every command that runs a connector
// takes (sync's again with a destination- prefix), and the flags of each
// row of the command table.
func TestDocCommandFlags(t *testing.T) {
	root := testenv.ModuleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## The `goab` command")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("the README has no section on goab")
	}
	section := readme[start : start+1+end]
	flagRE := regexp.MustCompile("`(--[a-z-]+)")
	help := map[string]string{}
	helpOf := func(cmd string) string {
		if _, ok := help[cmd]; !ok {
			r := goab(t, nil, cmd, "--help")
			r.want(t, 0)
			help[cmd] = r.stdout
		}
		return help[cmd]
	}
	want := func(cmd, flag, why string) {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(flag) + `\b`).MatchString(helpOf(cmd)) {
			t.Errorf("the README says goab %s takes %s (%s); its help does not list it:\n%s", cmd, flag, why, helpOf(cmd))
		}
	}
	i := strings.Index(section, "Every command that runs a connector takes the same flags")
	if i < 0 {
		t.Fatal("the README no longer lists the connector flags")
	}
	para, _, _ := strings.Cut(section[i:], "\n\n")
	var connFlags []string
	for _, m := range flagRE.FindAllStringSubmatch(para, -1) {
		connFlags = append(connFlags, m[1])
	}
	if len(connFlags) < 8 {
		t.Fatalf("found only %v in the paragraph on connector flags", connFlags)
	}
	for _, cmd := range []string{"spec", "check", "discover", "records", "read", "sync", "validate", "benchmark"} {
		for _, f := range connFlags {
			if f == "--no-progress" {
				continue
			}
			want(cmd, f, "a command that runs a connector")
			if cmd == "sync" && f != "--manifest" && f != "--config" {
				want(cmd, "--destination-"+strings.TrimPrefix(f, "--"), "again for the destination")
			}
		}
	}
	for _, cmd := range []string{"read", "sync", "benchmark"} {
		want(cmd, "--no-progress", "progress on stderr")
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z]+)`[^|]*\\| (.*)\\|$")
	rows := 0
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		rows++
		for _, f := range flagRE.FindAllStringSubmatch(m[2], -1) {
			want(m[1], f[1], "its row of the command table")
		}
	}
	if rows < 10 {
		t.Fatalf("found %d rows of the command table", rows)
	}
}
