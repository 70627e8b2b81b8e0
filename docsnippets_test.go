package goairbyte_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"go/types"
	"iter"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/x/goairbyte/connections"
	"github.com/x/goairbyte/internal/testenv"
)

// A docSnippet is a piece of Go code a user may copy: a ```go block of the
// README or a guide, a code block of a package's doc comment, or a call in
// their inline code.
type docSnippet struct {
	origin string // "README.md" or the package's directory ("." for the root)
	where  string // file:line, for messages
	pkg    string // the name of the package it is built as
	text   string
}

// snippetPackages are the directories whose package doc comments are
// checked: every package a user imports (not internal/, cmd/, examples/,
// connectors/).
func snippetPackages(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
		case strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "internal" || rel == "cmd" ||
			rel == "examples" || rel == "connectors" || rel == "docs" || rel == "temporal":
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && rel != "." {
			return filepath.SkipDir // another module
		}
		dirs = append(dirs, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// markdownSnippets returns the ```go blocks of README.md and of the
// guides in docs/.
func markdownSnippets(t *testing.T, root string) []docSnippet {
	t.Helper()
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []docSnippet
	for _, file := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		rel, _ := filepath.Rel(root, file)
		rel = filepath.ToSlash(rel)
		name := strings.ToLower(strings.TrimSuffix(filepath.Base(rel), ".md"))
		for i, b := range fencedBlocks(t, file, "go") {
			out = append(out, docSnippet{origin: rel, where: rel + ":" + strconv.Itoa(b.line),
				pkg: name + strconv.Itoa(i+1), text: b.text})
		}
	}
	return out
}

// inlineCalls returns the calls in the inline code of README.md and the
// guides that a user can copy as they are: Go call expressions of
// goairbyte's packages (or of src) whose other names are ctx, src or err,
// as the common givens declare them. Calls with placeholders of their own
// (WithLocalMount(dir), WithHTTPClient(c)) are left out.
func inlineCalls(t *testing.T, root string) []docSnippet {
	t.Helper()
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	span := regexp.MustCompile("`([^`\n]+)`")
	var out []docSnippet
	for _, file := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		rel = filepath.ToSlash(rel)
		for i, line := range proseLines(string(b)) {
			for _, m := range span.FindAllStringSubmatch(line, -1) {
				e, err := parser.ParseExpr(m[1])
				if err != nil {
					continue
				}
				if _, ok := e.(*ast.CallExpr); !ok {
					continue
				}
				ours, mine := false, true
				for _, name := range freeNames(e, nil, nil) {
					given := name == "ctx" || name == "src" || name == "err" // c, the cache elsewhere, is any connector here

					path := snippetImports[name]
					ours = ours || given || strings.HasPrefix(path, "github.com/x/goairbyte")
					mine = mine && (given || path != "")
				}
				if ours && mine {
					out = append(out, docSnippet{origin: rel + " inline", where: rel + ":" + strconv.Itoa(i+1),
						pkg: "inline" + strconv.Itoa(len(out)+1), text: m[1] + "\n"})
				}
			}
		}
	}
	return out
}

// proseLines yields the lines of a markdown text outside its ``` blocks,
// with their index (0 for the first line).
func proseLines(text string) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		fenced := false
		for i, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "```") {
				fenced = !fenced
			}
			if !fenced && !yield(i, line) {
				return
			}
		}
	}
}

// A fencedBlock is the text of a ``` block of a markdown file and the line
// its first line of text is on.
type fencedBlock struct {
	line int
	text string
}

// fencedBlocks returns the ```lang blocks of the markdown file.
func fencedBlocks(t *testing.T, file, lang string) []fencedBlock {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []fencedBlock
	var cur *fencedBlock
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```"+lang:
			cur = &fencedBlock{line: i + 2}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s: a ```%s block from line %d is not closed", file, lang, cur.line-1)
	}
	return out
}

// docComments parses the Go file and returns the doc comments go doc shows
// of it: the package's (first, nil when it has none) and those of its
// exported declarations.
func docComments(t *testing.T, file string) (*token.FileSet, *ast.File, []*ast.CommentGroup) {
	t.Helper()
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, file, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	docs := []*ast.CommentGroup{af.Doc}
	exported := func(names ...*ast.Ident) bool {
		return slices.ContainsFunc(names, func(n *ast.Ident) bool { return n.IsExported() })
	}
	ast.Inspect(af, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if exported(n.Name) {
				docs = append(docs, n.Doc)
			}
			return false
		case *ast.GenDecl:
			docs = append(docs, n.Doc)
		case *ast.TypeSpec:
			if !exported(n.Name) {
				return false
			}
			docs = append(docs, n.Doc)
		case *ast.ValueSpec:
			if exported(n.Names...) {
				docs = append(docs, n.Doc)
			}
		case *ast.Field:
			if exported(n.Names...) {
				docs = append(docs, n.Doc)
			}
		}
		return true
	})
	return fset, af, docs
}

// packageDocSnippets returns the code blocks of the doc comments go doc
// shows for the package in dir: the package's and those of its exported
// declarations.
func packageDocSnippets(t *testing.T, root, dir string) []docSnippet {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []docSnippet
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset, _, docs := docComments(t, f)
		rel, _ := filepath.Rel(root, f)
		n := 0
		for _, doc := range docs {
			if doc == nil {
				continue
			}
			var p comment.Parser
			for _, block := range p.Parse(doc.Text()).Content {
				code, ok := block.(*comment.Code)
				if !ok {
					continue
				}
				// The block's line: the first comment line that holds its first line.
				first := strings.SplitN(code.Text, "\n", 2)[0]
				line := fset.Position(doc.Pos()).Line
				for _, c := range doc.List {
					if strings.TrimSpace(strings.TrimPrefix(c.Text, "//")) == strings.TrimSpace(first) {
						line = fset.Position(c.Pos()).Line
						break
					}
				}
				// The package: the directory, the file and the block's number in it
				// (doc.go's first block is root_doc_1, cache/open.go's cache_open_1).
				n++
				name := strings.NewReplacer("/", "_", ".", "root", "-", "_").Replace(dir) + "_" +
					strings.ReplaceAll(strings.TrimSuffix(filepath.Base(f), ".go"), "-", "_") + "_" + strconv.Itoa(n)
				out = append(out, docSnippet{origin: dir, where: filepath.ToSlash(rel) + ":" + strconv.Itoa(line),
					pkg: name, text: code.Text})
			}
		}
	}
	return out
}

// notGo are the code blocks that are not Go, by where they come from and
// their first line, with the reason. No other block is skipped.
var notGo = map[[2]string]string{
	{"connections", "workspace_id: 5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"}:                              "a connections YAML file: TestDocSnippetsConnectionsYAML parses it",
	{"cache", "duckdb:///abs/path/file.duckdb    a DuckDB file, by absolute path"}:                     "a table of URLs",
	{"declarative", `{"use_global_cursor": false, "states": [{"partition": {...}, "cursor": {...}}],`}: "the JSON form of a state",
	{"declarative", `{"use_global_cursor": false, "state": {...}, "lookback_window": 1,`}:              "the JSON form of a state",
	{"README.md inline", "source.check()"}:                                                             "PyAirbyte's call, in the table of the README's Coming from PyAirbyte",
	{"README.md inline", `cache.get_records("users")`}:                                                 "PyAirbyte's call, in the table of the README's Coming from PyAirbyte",
	{"kit", "FROM scratch"}: "a Dockerfile: TestImagesRunAsThePlatformRunsThem (internal/imagetest) runs images built as it says",
	{"progress", "Read 2,000,100 records from source-faker in 4.21 s (475,083 rec/s, 152.3 MB/s): products 100, users 1,000,000, purchases 1,000,000"}: "a sample of the summary line progress prints",
}

// snippetImports are the packages a snippet may name without importing
// them, by the name it uses: the completion goimports would make, fixed.
var snippetImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "log": "log", "os": "os", "time": "time",
	"json": "encoding/json", "iter": "iter", "http": "net/http", "slog": "log/slog",
	"goairbyte":   "github.com/x/goairbyte",
	"airbyteapi":  "github.com/x/goairbyte/airbyteapi",
	"cache":       "github.com/x/goairbyte/cache",
	"cloud":       "github.com/x/goairbyte/cloud",
	"connections": "github.com/x/goairbyte/connections",
	"connector":   "github.com/x/goairbyte/connector",
	"declarative": "github.com/x/goairbyte/declarative",
	"destination": "github.com/x/goairbyte/destination",
	"duckdb":      "github.com/x/goairbyte/cache/duckdb",
	"executor":    "github.com/x/goairbyte/executor",
	"fivetran":    "github.com/x/goairbyte/fivetran",
	"kit":         "github.com/x/goairbyte/kit",
	"postgres":    "github.com/x/goairbyte/cache/postgres",
	"progress":    "github.com/x/goairbyte/progress",
	"protocol":    "github.com/x/goairbyte/protocol",
	"registry":    "github.com/x/goairbyte/registry",
	"secrets":     "github.com/x/goairbyte/secrets",
	"source":      "github.com/x/goairbyte/source",
	"watch":       "github.com/x/goairbyte/watch",
}

// snippetGivens declare what a snippet uses and does not declare itself
// (the ctx, the src of an earlier step), by name, as Go types: first those
// of the snippet's origin, then the common ones. A snippet that uses a name
// found in neither fails the test.
var snippetGivens = map[string]map[string]string{
	"": {
		"ctx": "context.Context", "err": "error", "src": "*goairbyte.Source", "c": "*cache.Cache",
		"readResult": "*source.ReadResult", "cfg": "map[string]any",
		"acmeVault": "secrets.SecretManager", "acmeLogger": "*slog.Logger",
		"path": "string", "connectionID": "string", "workspaceID": "string",
	},
	"cache":       {"catalog": "*protocol.ConfiguredCatalog", "msgs": "iter.Seq2[*protocol.Message, error]"},
	"airbyteapi":  {"clientID": "string", "clientSecret": "string"},
	"cloud":       {"client": "*airbyteapi.Client", "id": "string", "secret": "string"},
	"watch":       {"client": "*airbyteapi.Client", "handle": "func(watch.Event)"},
	"fivetran":    {"apiKey": "string", "apiSecret": "string"},
	"kit":         {"myconnector": "struct{ New func() kit.Source }"},
	"declarative": {"manifestYAML": "[]byte", "client": "*http.Client", "config": "json.RawMessage", "configured": "*protocol.ConfiguredCatalog", "state": "json.RawMessage"},
	"executor":    {"cfg": "json.RawMessage", "cat": "json.RawMessage"},
	"docs/remote.md": {"clientID": "string", "clientSecret": "string", "apiKey": "string", "apiSecret": "string",
		"client": "*airbyteapi.Client", "ft": "*fivetran.Client", "handle": "func(watch.Event)"},
	"progress": {"line": "[]byte", "n": "int"},
	"protocol": {"stdout": "io.Reader", "batch": "interface{ Add(string, json.RawMessage) }", "flushAndCommit": "func(*protocol.State)"},
}

// elidedErr and elided are the "..." of a snippet: after if err != nil it
// stands for handling the error (returning it), elsewhere for the user's own
// code (nothing).
var (
	elidedErr = regexp.MustCompile(`if err != nil \{ \.\.\. \}`)
	elided    = regexp.MustCompile(`(?m)^(\s*)\.\.\.(\s*//.*)?$|\{ \.\.\. \}`)
)

// snippetSource completes a snippet into a Go file of package s.pkg: its
// imports, plus those of the package names it uses; its "..." as elided
// says; its statements in func Snippet, with its free names as parameters
// and a use of each variable it declares; a snippet of declarations as it
// is, its free names as package variables.
func snippetSource(s docSnippet) (string, error) {
	imports, body := splitImports(s.text)
	body = elidedErr.ReplaceAllString(body, "if err != nil { return err }")
	body = elided.ReplaceAllStringFunc(body, func(m string) string {
		if strings.HasPrefix(m, "{") {
			return "{ _ = 0 }"
		}
		return strings.Replace(m, "...", "_ = 0", 1)
	})
	fset := token.NewFileSet()
	if f, err := parser.ParseFile(fset, "", "package p\n"+body, parser.ParseComments); err == nil && len(f.Decls) > 0 {
		return declSnippet(s, imports, body, f)
	}
	const head = "package p\n\nfunc Snippet() error {\n"
	f, err := parser.ParseFile(fset, "", head+body+"\nreturn nil\n}\n", parser.ParseComments)
	if err != nil {
		return "", fmt.Errorf("neither declarations nor statements: %v", err)
	}
	fn := f.Decls[0].(*ast.FuncDecl)
	declared, inserts := declaredNames(fset, fn.Body)
	params, pkgs, err := givens(s.origin, freeNames(fn.Body, declared, imports))
	if err != nil {
		return "", err
	}
	// The uses of the declared variables, from the end so that offsets hold.
	src := []byte(head + body + "\nreturn nil\n}\n")
	sort.SliceStable(inserts, func(i, j int) bool { return inserts[i].off > inserts[j].off })
	for _, in := range inserts {
		src = slices.Insert(src, in.off, []byte(in.text)...)
	}
	code := strings.TrimPrefix(string(src), head)
	var out strings.Builder
	fmt.Fprintf(&out, "// Package %s is %s.\npackage %s\n\n", s.pkg, s.where, s.pkg)
	writeImports(&out, imports, pkgs)
	fmt.Fprintf(&out, "// Snippet is the snippet.\nfunc Snippet(%s) error {\n%s", strings.Join(params, ", "), code)
	return out.String(), nil
}

// declSnippet completes a snippet of declarations: package main when it
// declares main.
func declSnippet(s docSnippet, imports []string, body string, f *ast.File) (string, error) {
	declared := map[string]bool{}
	pkg := s.pkg
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			declared[d.Name.Name] = true
			if d.Name.Name == "main" && d.Recv == nil {
				pkg = "main"
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						declared[n.Name] = true
					}
				case *ast.TypeSpec:
					declared[spec.Name.Name] = true
				}
			}
		}
	}
	vars, pkgs, err := givens(s.origin, freeNames(f, declared, imports))
	if err != nil {
		return "", err
	}
	var out strings.Builder
	fmt.Fprintf(&out, "// Package %s is %s.\npackage %s\n\n", pkg, s.where, pkg)
	writeImports(&out, imports, pkgs)
	for _, v := range vars {
		fmt.Fprintf(&out, "var %s\n", v)
	}
	out.WriteString(body)
	return out.String(), nil
}

// splitImports takes the import declarations off the top of a snippet.
func splitImports(text string) (imports []string, body string) {
	lines := strings.Split(text, "\n")
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "":
		case l == "import (":
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ")"; i++ {
				if spec := strings.TrimSpace(lines[i]); spec != "" {
					imports = append(imports, spec)
				}
			}
		case strings.HasPrefix(l, "import "):
			imports = append(imports, strings.TrimSpace(strings.TrimPrefix(l, "import ")))
		default:
			return imports, strings.Join(lines[i:], "\n")
		}
	}
	return imports, ""
}

// importedNames are the names the snippet's own imports bring in.
func importedNames(imports []string) map[string]bool {
	names := map[string]bool{}
	for _, spec := range imports {
		fields := strings.Fields(spec)
		if len(fields) > 1 && !strings.HasPrefix(fields[1], "//") {
			names[fields[0]] = true // a named import (or _)
			continue
		}
		path, _ := strconv.Unquote(fields[0])
		names[path[strings.LastIndex(path, "/")+1:]] = true
	}
	return names
}

// An insert is text to put at an offset of the generated function.
type insert struct {
	off  int
	text string
}

// declaredNames returns the names body declares, and the uses to insert so
// that none is "declared and not used": after the statement that declares
// it, or at the start of the block it is declared for (range and if).
func declaredNames(fset *token.FileSet, body *ast.BlockStmt) (map[string]bool, []insert) {
	declared := map[string]bool{}
	var inserts []insert
	// use declares names and inserts their uses at off: after a statement
	// (";" first) or at the start of a block (";" after).
	use := func(names []string, off int, atBlock bool) {
		var b strings.Builder
		for _, n := range names {
			if n != "_" {
				declared[n] = true
				if atBlock {
					fmt.Fprintf(&b, " _ = %s;", n)
				} else {
					fmt.Fprintf(&b, "; _ = %s", n)
				}
			}
		}
		if b.Len() > 0 {
			inserts = append(inserts, insert{off, b.String()})
		}
	}
	idents := func(exprs ...ast.Expr) []string {
		var names []string
		for _, e := range exprs {
			if id, ok := e.(*ast.Ident); ok {
				names = append(names, id.Name)
			}
		}
		return names
	}
	offset := func(p token.Pos) int { return fset.Position(p).Offset }
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			for _, fl := range []*ast.FieldList{n.Type.Params, n.Type.Results} {
				if fl != nil {
					for _, f := range fl.List {
						for _, name := range f.Names {
							declared[name.Name] = true
						}
					}
				}
			}
		case *ast.IfStmt:
			if a, ok := n.Init.(*ast.AssignStmt); ok && a.Tok == token.DEFINE {
				use(idents(a.Lhs...), offset(n.Body.Lbrace)+1, true)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				use(idents(n.Key, n.Value), offset(n.Body.Lbrace)+1, true)
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && !isIfInit(body, n) {
				use(idents(n.Lhs...), offset(n.End()), false)
			}
		case *ast.DeclStmt:
			if g, ok := n.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, spec := range g.Specs {
					var names []string
					for _, id := range spec.(*ast.ValueSpec).Names {
						names = append(names, id.Name)
					}
					use(names, offset(n.End()), false)
				}
			}
		}
		return true
	})
	return declared, inserts
}

// isIfInit says whether a is the init statement of an if in body.
func isIfInit(body ast.Node, a *ast.AssignStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if s, ok := n.(*ast.IfStmt); ok && s.Init == a {
			found = true
		}
		return !found
	})
	return found
}

// freeNames returns the names node uses that it does not declare, that it
// does not import and that are not Go's own, in order.
func freeNames(node ast.Node, declared map[string]bool, imports []string) []string {
	own := importedNames(imports)
	seen := map[string]bool{}
	var free []string
	skip := map[*ast.Ident]bool{}
	ast.Inspect(node, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			skip[n.Sel] = true
		case *ast.CompositeLit:
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						skip[id] = true // a field name
					}
				}
			}
		case *ast.BranchStmt:
			if n.Label != nil {
				skip[n.Label] = true
			}
		case *ast.LabeledStmt:
			skip[n.Label] = true
		case *ast.File:
			skip[n.Name] = true
		case *ast.FuncDecl:
			skip[n.Name] = true
		}
		return true
	})
	ast.Inspect(node, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || skip[id] || id.Name == "_" || declared[id.Name] || own[id.Name] || seen[id.Name] {
			return true
		}
		if types.Universe.Lookup(id.Name) != nil {
			return true
		}
		seen[id.Name] = true
		free = append(free, id.Name)
		return true
	})
	sort.Strings(free)
	return free
}

// givens turns the free names of a snippet from origin into declarations
// ("name type") and the packages it names (its own and its givens' types);
// it fails on a name nothing declares.
func givens(origin string, free []string) (decls, pkgs []string, err error) {
	var missing []string
	for _, name := range free {
		typ, ok := snippetGivens[origin][name]
		if !ok {
			typ, ok = snippetGivens[""][name]
		}
		switch {
		case ok:
			decls = append(decls, name+" "+typ)
			e, err := parser.ParseExpr(typ)
			if err != nil {
				return nil, nil, fmt.Errorf("the given %s %s: %v", name, typ, err)
			}
			ast.Inspect(e, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && !slices.Contains(pkgs, id.Name) {
						pkgs = append(pkgs, id.Name)
					}
				}
				return true
			})
		case snippetImports[name] != "":
			if !slices.Contains(pkgs, name) {
				pkgs = append(pkgs, name)
			}
		default:
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("uses %s, which it does not declare: add to snippetGivens[%q] (or to snippetImports, for a package)", strings.Join(missing, ", "), origin)
	}
	return decls, pkgs, nil
}

// writeImports writes the import declaration of a snippet: its own imports
// and the packages pkgs that they do not import.
func writeImports(out *strings.Builder, imports, pkgs []string) {
	own := importedNames(imports)
	specs := slices.Clone(imports)
	slices.Sort(pkgs)
	for _, name := range pkgs {
		if !own[name] {
			specs = append(specs, strconv.Quote(snippetImports[name]))
		}
	}
	if len(specs) == 0 {
		return
	}
	out.WriteString("import (\n")
	for _, spec := range specs {
		fmt.Fprintf(out, "\t%s\n", spec)
	}
	out.WriteString(")\n\n")
}

// snippetRun is the program that runs the snippets cheap to run offline,
// in a directory of the test's: the README's first three steps (the faker
// in process into the default DuckDB cache, then twice incrementally into a
// cache of its own), the package doc's Start and the cache doc's Open.
const snippetRun = `package main

import (
	"context"
	"fmt"
	"log"

	"example.com/docsnippets/cache_doc_1"
	"example.com/docsnippets/readme1"
	"example.com/docsnippets/readme2"
	"example.com/docsnippets/readme3"
	"example.com/docsnippets/root_doc_1"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/connector"
)

func main() {
	ctx := context.Background()
	if err := readme1.Snippet(ctx); err != nil {
		log.Fatal(err)
	}
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": 100, "seed": 42}))
	if err != nil {
		log.Fatal(err)
	}
	if err := readme2.Snippet(ctx, src); err != nil {
		log.Fatal(err)
	}
	c, err := goairbyte.NewLocalCache(ctx, "incremental", "")
	if err != nil {
		log.Fatal(err)
	}
	if err := readme3.Snippet(c, ctx); err != nil {
		log.Fatal(err)
	}
	for _, stream := range []string{"products", "purchases", "users"} {
		ds, err := c.Dataset(ctx, stream)
		if err != nil {
			log.Fatal(err)
		}
		n, err := ds.Count(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(stream, n)
	}
	if err := root_doc_1.Snippet(ctx); err != nil {
		log.Fatal(err)
	}
	if err := cache_doc_1.Snippet(ctx); err != nil {
		log.Fatal(err)
	}
}
`

// TestDocSnippets compiles every Go snippet of the README, the guides and
// the package docs, as a user who copies it would: in a module outside the
// checkout, each snippet a package of its own, completed with the imports
// and the names it takes from around it (snippetGivens). Only the blocks
// notGo lists are left out. The snippets snippetRun calls are run too.
func TestDocSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own; skipped with -short")
	}
	t.Parallel()
	root := testenv.ModuleRoot(t)
	snippets := markdownSnippets(t, root)
	for _, dir := range snippetPackages(t, root) {
		snippets = append(snippets, packageDocSnippets(t, root, dir)...)
	}
	snippets = append(snippets, inlineCalls(t, root)...)
	files := map[string]string{"run/main.go": snippetRun}
	byPkg := map[string]docSnippet{}
	skipped := map[[2]string]bool{}
	for _, s := range snippets {
		key := [2]string{s.origin, strings.SplitN(s.text, "\n", 2)[0]}
		if _, ok := notGo[key]; ok {
			skipped[key] = true
			continue
		}
		src, err := snippetSource(s)
		if err != nil {
			t.Errorf("%s: %v\n%s", s.where, err, s.text)
			continue
		}
		files[s.pkg+"/snippet.go"] = src
		byPkg[s.pkg] = s
	}
	for key, why := range notGo {
		if !skipped[key] {
			t.Errorf("notGo lists a block that is no longer there (%s): %q in %s", why, key[1], key[0])
		}
	}
	if t.Failed() {
		return
	}
	if len(byPkg) < 20 {
		t.Fatalf("found only %d snippets", len(byPkg))
	}
	dir := outsideModule(t, "example.com/docsnippets", files)
	build := exec.Command("go", "build", "-mod=mod", "./...")
	build.Dir = dir
	out, err := build.CombinedOutput()
	if err != nil {
		// go build prints "# example.com/docsnippets/<pkg>" before each
		// package's errors.
		var pkg string
		errs := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line := sc.Text()
			if p, ok := strings.CutPrefix(line, "# example.com/docsnippets/"); ok {
				pkg = p
				continue
			}
			errs[pkg] += line + "\n"
		}
		for _, pkg := range slices.Sorted(maps.Keys(errs)) {
			s, ok := byPkg[pkg]
			if !ok {
				t.Errorf("%s", errs[pkg])
				continue
			}
			t.Errorf("the snippet at %s does not compile:\n%s\ncompleted as:\n%s", s.where, errs[pkg], files[pkg+"/snippet.go"])
		}
		t.Fatalf("go build: %v", err)
	}
	t.Logf("%d snippets compile (%d not Go)", len(byPkg), len(notGo))

	work := t.TempDir()
	stdout, _ := runOutside(t, dir, "./run", work)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	// Step 1 prints ten users' names, step 2 the records read per stream,
	// and the program the rows of step 3's cache.
	want := []string{"300 map[products:100 purchases:100 users:100]", "products 100", "purchases 2000", "users 2000"}
	if len(lines) != 10+len(want) {
		t.Fatalf("the snippets printed %d lines, want %d:\n%s", len(lines), 10+len(want), stdout)
	}
	for _, name := range lines[:10] {
		if strings.TrimSpace(name) == "" || name == "<nil>" {
			t.Errorf("step 1 printed %q for a user's name", name)
		}
	}
	if !slices.Equal(lines[10:], want) {
		t.Errorf("the snippets printed\n%s\nafter the names, want\n%s", strings.Join(lines[10:], "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(work, ".cache", "mycache", "mycache.duckdb")); err != nil {
		t.Errorf("the cache doc's Open made no .cache/mycache/mycache.duckdb: %v", err)
	}
}

// TestDocSnippetsConnectionsYAML parses the connections files of package
// connections' doc and of docs/remote.md as connections.Load does.
func TestDocSnippetsConnectionsYAML(t *testing.T) {
	root := testenv.ModuleRoot(t)
	var files []fencedBlock
	for _, s := range packageDocSnippets(t, root, "connections") {
		if strings.HasPrefix(s.text, "workspace_id:") {
			files = append(files, fencedBlock{text: s.text})
		}
	}
	files = append(files, fencedBlocks(t, filepath.Join(root, "docs", "remote.md"), "yaml")...)
	if len(files) < 2 {
		t.Fatalf("found %d connections files in the docs, want the package doc's and docs/remote.md's", len(files))
	}
	for i, f := range files {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("connections-%d.yaml", i))
		if err := os.WriteFile(path, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := connections.Load(path)
		if err != nil {
			t.Errorf("%v:\n%s", err, f.text)
			continue
		}
		if len(cfg.Sources) == 0 || len(cfg.Destinations) == 0 || len(cfg.Connections) == 0 {
			t.Errorf("the file declares %d sources, %d destinations, %d connections:\n%s",
				len(cfg.Sources), len(cfg.Destinations), len(cfg.Connections), f.text)
		}
	}
}

// An apiIndex holds the exported names of the module's public packages, by
// package name: for each, its kind ("type", "func", "var", "const") and,
// for a type, its methods and fields (an alias's are its target's).
type apiIndex map[string]map[string]*apiName

type apiName struct {
	kind     string
	members  map[string]bool
	params   int         // a func's parameters
	variadic bool        // its last is ...T
	alias    [2]string   // package, name of an alias's target
	embedded [][2]string // package, name of the types a struct embeds
}

// typeName returns the package and name of a type expression: T, *T,
// pkg.T or *pkg.T.
func typeName(pkg string, e ast.Expr) [2]string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	switch e := e.(type) {
	case *ast.Ident:
		return [2]string{pkg, e.Name}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return [2]string{x.Name, e.Sel.Name}
		}
	}
	return [2]string{}
}

// indexAPI reads the exported declarations of the packages in dirs.
func indexAPI(t *testing.T, root string, dirs []string) apiIndex {
	t.Helper()
	idx := apiIndex{}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			pkg := f.Name.Name
			if idx[pkg] == nil {
				idx[pkg] = map[string]*apiName{}
			}
			name := func(n string) *apiName {
				if idx[pkg][n] == nil {
					idx[pkg][n] = &apiName{members: map[string]bool{}}
				}
				return idx[pkg][n]
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil {
						n := name(d.Name.Name)
						n.kind = "func"
						for _, f := range d.Type.Params.List {
							n.params += max(len(f.Names), 1)
							_, n.variadic = f.Type.(*ast.Ellipsis)
						}
						continue
					}
					recv := d.Recv.List[0].Type
					if s, ok := recv.(*ast.StarExpr); ok {
						recv = s.X
					}
					if g, ok := recv.(*ast.IndexExpr); ok {
						recv = g.X
					}
					if id, ok := recv.(*ast.Ident); ok {
						name(id.Name).members[d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch spec := spec.(type) {
						case *ast.ValueSpec:
							for _, n := range spec.Names {
								name(n.Name).kind = d.Tok.String()
							}
						case *ast.TypeSpec:
							n := name(spec.Name.Name)
							n.kind = "type"
							if st, ok := spec.Type.(*ast.StructType); ok {
								for _, fl := range st.Fields.List {
									for _, fn := range fl.Names {
										n.members[fn.Name] = true
									}
									if len(fl.Names) == 0 { // embedded: its members are promoted
										n.embedded = append(n.embedded, typeName(pkg, fl.Type))
									}
								}
							}
							if it, ok := spec.Type.(*ast.InterfaceType); ok {
								for _, m := range it.Methods.List {
									for _, mn := range m.Names {
										n.members[mn.Name] = true
									}
								}
							}
							if spec.Assign.IsValid() {
								n.alias = typeName(pkg, spec.Type)
							}
						}
					}
				}
			}
		}
	}
	return idx
}

// lookup says whether pkg.name exists, and pkg.name.member when member is
// not "" (a method or field of the type, its alias's target or a type it
// embeds; a member of a package's type from outside the module, such as
// slog.Logger, is taken on trust).
func (idx apiIndex) lookup(pkg, name, member string) bool {
	return idx.lookupDepth(pkg, name, member, 0)
}

func (idx apiIndex) lookupDepth(pkg, name, member string, depth int) bool {
	if _, ours := idx[pkg]; !ours && depth > 0 {
		return true
	}
	n := idx[pkg][name]
	if n == nil || depth > 5 {
		return false
	}
	if member == "" || n.kind != "type" || n.members[member] {
		return true
	}
	if n.alias[1] != "" && idx.lookupDepth(n.alias[0], n.alias[1], member, depth+1) {
		return true
	}
	for _, e := range n.embedded {
		if e[1] != "" && idx.lookupDepth(e[0], e[1], member, depth+1) {
			return true
		}
	}
	return false
}

// typeWithMember says whether some package has a type name with member.
func (idx apiIndex) typeWithMember(name, member string) bool {
	for pkg := range idx {
		if n := idx[pkg][name]; n != nil && n.kind == "type" && idx.lookup(pkg, name, member) {
			return true
		}
	}
	return false
}

// TestDocNames checks that the API the prose of the README, the guides and
// the doc comments go doc shows (packages' and exported declarations')
// names exists: every pkg.Name (pkg.Type.Member) of goairbyte's packages,
// in code spans every Type.Member of some package, and every doc link.
func TestDocNames(t *testing.T) {
	root := testenv.ModuleRoot(t)
	dirs := snippetPackages(t, root)
	idx := indexAPI(t, root, dirs)
	type text struct {
		file  string
		first int // the line of the file body starts on
		body  string
	}
	var texts []text
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		// The prose: fenced blocks are compiled or run elsewhere.
		lines := strings.Split(string(b), "\n")
		fenced := false
		for i, l := range lines {
			if strings.HasPrefix(l, "```") {
				fenced = !fenced
				lines[i] = ""
			} else if fenced {
				lines[i] = ""
			}
		}
		texts = append(texts, text{filepath.ToSlash(rel), 1, strings.Join(lines, "\n")})
	}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			fset, f, docs := docComments(t, file)
			rel, _ := filepath.Rel(root, file)
			for _, doc := range docs {
				if doc == nil {
					continue
				}
				first := fset.Position(doc.Pos()).Line
				where := filepath.ToSlash(rel) + ":" + strconv.Itoa(first)
				texts = append(texts, text{filepath.ToSlash(rel), first, doc.Text()})
				for _, link := range brokenDocLinks(idx, f.Name.Name, doc.Text()) {
					t.Errorf("%s: the doc link %s names nothing in package %s", where, link, f.Name.Name)
				}
			}
		}
	}
	qualified := regexp.MustCompile(`\b([a-z][a-z0-9]*)\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)
	span := regexp.MustCompile("`[^`]*`")
	member := regexp.MustCompile(`(?:^|[^\w.])([A-Z]\w*)\.([A-Z]\w*)\b`)
	checked := 0
	for _, tx := range texts {
		line := func(off int) string { return tx.file + ":" + strconv.Itoa(tx.first+strings.Count(tx.body[:off], "\n")) }
		for _, m := range qualified.FindAllStringSubmatchIndex(tx.body, -1) {
			pkg, name := tx.body[m[2]:m[3]], tx.body[m[4]:m[5]]
			mem := ""
			if m[6] >= 0 {
				mem = tx.body[m[6]:m[7]]
			}
			if _, ours := idx[pkg]; !ours || snippetImports[pkg] == "" || !strings.HasPrefix(snippetImports[pkg], "github.com/x/goairbyte") {
				continue
			}
			checked++
			if !idx.lookup(pkg, name, mem) {
				t.Errorf("%s names %s, which does not exist", line(m[0]), tx.body[m[0]:m[1]])
			}
		}
		for _, s := range span.FindAllStringIndex(tx.body, -1) {
			for _, m := range member.FindAllStringSubmatch(tx.body[s[0]:s[1]], -1) {
				if _, isPkg := idx[strings.ToLower(m[1])]; isPkg && strings.ToLower(m[1]) == m[1] {
					continue
				}
				checked++
				if !idx.typeWithMember(m[1], m[2]) {
					t.Errorf("%s names %s.%s: no package has a type %s with that member", line(s[0]), m[1], m[2], m[1])
				}
			}
		}
	}
	checked += checkOptionTables(t, root, idx)
	if checked < 100 {
		t.Fatalf("checked only %d names", checked)
	}
	t.Logf("%d names checked", checked)
}

// brokenDocLinks returns the doc links ([Name], [Type.Method]) of the doc
// comment of package pkg that name nothing in it: go doc shows them as
// plain text.
func brokenDocLinks(idx apiIndex, pkg, doc string) []string {
	p := comment.Parser{
		LookupPackage: func(name string) (string, bool) {
			path, ok := snippetImports[name]
			return path, ok
		},
		LookupSym: func(recv, name string) bool {
			if recv == "" {
				return idx[pkg][name] != nil
			}
			return idx.lookup(pkg, recv, name)
		},
	}
	link := regexp.MustCompile(`\[\*?[A-Z]\w*(\.[A-Z]\w*)?\]`)
	var broken []string
	var texts func([]comment.Text)
	texts = func(ts []comment.Text) {
		for _, t := range ts {
			switch t := t.(type) {
			case comment.Plain:
				broken = append(broken, link.FindAllString(string(t), -1)...)
			case comment.Italic:
				broken = append(broken, link.FindAllString(string(t), -1)...)
			case *comment.Link:
				texts(t.Text)
			}
		}
	}
	var blocks func([]comment.Block)
	blocks = func(bs []comment.Block) {
		for _, b := range bs {
			switch b := b.(type) {
			case *comment.Paragraph:
				texts(b.Text)
			case *comment.Heading:
				texts(b.Text)
			case *comment.List:
				for _, item := range b.Items {
					blocks(item.Content)
				}
			}
		}
	}
	blocks(p.Parse(doc).Content)
	return broken
}

// TestDocCommandsExist checks the go and make command lines of README.md,
// the guides and the examples' docs: what go run runs is a main package of
// the checkout and an example defines the flags the line gives it, a make
// target is in the Makefile, and each go test -bench of the
// performance table matches a benchmark of its package, whose tests read
// the environment variables the line sets.
func TestDocCommandsExist(t *testing.T) {
	root := testenv.ModuleRoot(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	goRun := regexp.MustCompile("\\bgo run (\\./[\\w/.-]+)([^`\\n#]*)")
	makeTarget := regexp.MustCompile("(?:^|`)make ([a-z]+)")
	goTest := regexp.MustCompile("`((?:[A-Z_]+=\\S+ )*)go test [^`]*-bench ('[^']*'|\\S+)[^`]* (\\.|\\./[\\w/]+)`")
	internalImport := regexp.MustCompile(`"github\.com/x/goairbyte/(internal/[\w/]+)"`)
	var runs, targets, benches int
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range append(append([]string{filepath.Join(root, "README.md")}, guides...), examples...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		text := string(b)
		where := func(off int) string { return rel + ":" + strconv.Itoa(strings.Count(text[:off], "\n")+1) }
		for _, m := range goRun.FindAllStringSubmatchIndex(text, -1) {
			runs++
			dir := filepath.Join(root, text[m[2]:m[3]])
			files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
			isMain := false
			var src strings.Builder
			for _, f := range files {
				if af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly); err == nil && af.Name.Name == "main" {
					isMain = true
				}
				if b, err := os.ReadFile(f); err == nil && !strings.HasSuffix(f, "_test.go") {
					src.Write(b)
				}
			}
			if !isMain {
				t.Errorf("%s: go run %s: no main package there", where(m[0]), text[m[2]:m[3]])
				continue
			}
			if strings.HasPrefix(text[m[2]:m[3]], "./cmd/") {
				continue // goab's lines are checked by its own tests
			}
			// An example's flags are the flag package's, defined as flag.Int("count", …).
			for _, arg := range strings.Fields(text[m[4]:m[5]]) {
				name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
				if strings.HasPrefix(arg, "-") && !regexp.MustCompile(`flag\.\w+\((&\w+, )?"`+regexp.QuoteMeta(name)+`"`).MatchString(src.String()) {
					t.Errorf("%s: go run %s %s: the program defines no flag -%s", where(m[0]), text[m[2]:m[3]], strings.TrimSpace(text[m[4]:m[5]]), name)
				}
			}
		}
		for _, line := range strings.Split(text, "\n") {
			for _, m := range makeTarget.FindAllStringSubmatch(line, -1) {
				targets++
				if !regexp.MustCompile(`(?m)^` + m[1] + `:`).Match(makefile) {
					t.Errorf("%s: make %s: the Makefile has no such target", rel, m[1])
				}
			}
		}
		for _, m := range goTest.FindAllStringSubmatchIndex(text, -1) {
			benches++
			env, pattern, pkg := text[m[2]:m[3]], strings.Trim(text[m[4]:m[5]], "'"), text[m[6]:m[7]]
			re, err := regexp.Compile(strings.ReplaceAll(pattern, `\|`, `|`)) // \| is | in a markdown table
			if err != nil {
				t.Errorf("%s: -bench %s: %v", where(m[0]), pattern, err)
				continue
			}
			// The package's tests, and the internal test helpers they
			// import, which may run the benchmark and read its variables.
			files, _ := filepath.Glob(filepath.Join(root, pkg, "*_test.go"))
			var tests strings.Builder
			helpers := map[string]bool{}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				tests.Write(b)
				for _, imp := range internalImport.FindAllSubmatch(b, -1) {
					helpers[string(imp[1])] = true
				}
			}
			for dir := range helpers {
				hf, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
				for _, f := range hf {
					if strings.HasSuffix(f, "_test.go") {
						continue
					}
					b, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					tests.Write(b)
				}
			}
			found := false
			for _, name := range regexp.MustCompile(`(?m)^func (Benchmark\w*)\(`).FindAllStringSubmatch(tests.String(), -1) {
				found = found || re.MatchString(name[1])
			}
			if !found {
				t.Errorf("%s: -bench %s matches no benchmark of %s", where(m[0]), pattern, pkg)
			}
			for _, kv := range strings.Fields(env) {
				if name, _, _ := strings.Cut(kv, "="); !strings.Contains(tests.String(), `"`+name+`"`) {
					t.Errorf("%s: the tests of %s do not read %s", where(m[0]), pkg, name)
				}
			}
		}
	}
	if runs < 10 || targets < 3 || benches < 10 {
		t.Fatalf("found %d go run, %d make and %d go test -bench lines: the extraction is broken", runs, targets, benches)
	}
}

// checkOptionTables checks the first column of the README's tables of
// options: each Name(args) is a func of the table's package taking as
// many arguments (name... for a variadic one). It returns how many it
// checked.
func checkOptionTables(t *testing.T, root string, idx apiIndex) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]string{
		"### Connector options": "connector", "### Records options": "source",
		"### Read options": "source", "### Write options": "destination",
	}
	call := regexp.MustCompile("`([A-Z]\\w*)\\(([^`]*)\\)`")
	checked := 0
	pkg := ""
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			pkg = ""
			for heading, p := range tables {
				if strings.HasPrefix(line, heading) {
					pkg = p
				}
			}
			continue
		}
		if pkg == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, " | ")[0]
		for _, m := range call.FindAllStringSubmatch(first, -1) {
			checked++
			where := "README.md:" + strconv.Itoa(i+1)
			fn := idx[pkg][m[1]]
			if fn == nil || fn.kind != "func" {
				t.Errorf("%s: the %s options table lists %s, which is no func of package %s", where, pkg, m[1], pkg)
				continue
			}
			args := 0
			if strings.TrimSpace(m[2]) != "" {
				args = strings.Count(m[2], ",") + 1
			}
			spread := strings.HasSuffix(m[2], "...")
			if ok := args == fn.params && spread == fn.variadic || fn.variadic && !spread && args >= fn.params-1; !ok {
				t.Errorf("%s: %s.%s(%s): the func takes %d parameters (variadic %v)", where, pkg, m[1], m[2], fn.params, fn.variadic)
			}
		}
	}
	if checked < 40 {
		t.Fatalf("checked only %d options of the README's tables", checked)
	}
	return checked
}

// githubAnchor is the anchor GitHub makes of a heading's title: lower
// case, spaces as hyphens, other punctuation dropped ("7. Errors" is
// 7-errors).
func githubAnchor(title string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ':
			return '-'
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			return r
		}
		return -1
	}, strings.ToLower(strings.TrimSpace(title)))
}

// headingAnchors returns the anchors of the markdown file's headings,
// outside ``` blocks.
func headingAnchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range proseLines(string(b)) {
		if strings.HasPrefix(line, "#") {
			anchors[githubAnchor(strings.TrimLeft(line, "#"))] = true
		}
	}
	return anchors
}

// TestDocLinks checks the references of the README, the guides and the
// package docs: a markdown link to a file of the checkout names one that
// exists, a #section one a heading of the file it points at, and a doc
// comment's `the README's "Title"` or `the README's section "Title"` a heading of
// the README.
func TestDocLinks(t *testing.T) {
	root := testenv.ModuleRoot(t)
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readmeText := string(b)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	links := 0
	for _, file := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		rel, _ := filepath.Rel(root, file)
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range proseLines(string(text)) {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				where := rel + ":" + strconv.Itoa(i+1)
				path, anchor, _ := strings.Cut(target, "#")
				to := file
				if path != "" {
					to = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
					if _, err := os.Stat(to); err != nil {
						t.Errorf("%s: the link %s names no file of the checkout", where, target)
						continue
					}
				}
				if anchor != "" && !headingAnchors(t, to)[anchor] {
					t.Errorf("%s: the link %s names no heading of %s", where, target, filepath.Base(to))
				}
			}
		}
	}
	// A mention names a heading as it reads, its code spans' backquotes aside.
	readme := map[string]bool{}
	for _, line := range proseLines(readmeText) {
		if strings.HasPrefix(line, "#") {
			readme[strings.ReplaceAll(strings.TrimSpace(strings.TrimLeft(line, "#")), "`", "")] = true
		}
	}
	named := regexp.MustCompile(`README's (?:section )?"([^"]+)"`)
	mentions := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// A doc comment's sentence may wrap: read its lines as one text.
		text := regexp.MustCompile(`\n\s*// ?`).ReplaceAllString(string(b), " ")
		for _, m := range named.FindAllStringSubmatch(text, -1) {
			mentions++
			if !readme[m[1]] {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s: the README has no section %q", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if links < 5 || mentions < 2 {
		t.Fatalf("found %d links and %d mentions of a README section: the extraction is broken", links, mentions)
	}
}

// TestDocEnvVars checks that each environment variable of goairbyte's,
// Airbyte's or Fivetran's that the README and the guides name is one the
// module's code reads, as "NAME" in a Go file (its tests' included, for the
// variables of the tests).
func TestDocEnvVars(t *testing.T) {
	root := testenv.ModuleRoot(t)
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			b, err := os.ReadFile(path)
			code.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	variable := regexp.MustCompile(`\b(?:GOAIRBYTE|GOAB|AIRBYTE|FIVETRAN|NO_LIVE)_[A-Z0-9_]*[A-Z0-9]\b`)
	named := 0
	for _, file := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		for i, line := range strings.Split(string(b), "\n") {
			for _, name := range variable.FindAllString(line, -1) {
				named++
				if !strings.Contains(code.String(), `"`+name+`"`) {
					t.Errorf("%s:%d: %s: no Go file of the module reads it", rel, i+1, name)
				}
			}
		}
	}
	if named < 20 {
		t.Fatalf("found %d environment variables in the docs: the extraction is broken", named)
	}
}
