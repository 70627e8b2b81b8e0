package main_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// goAPIs matches the remedies meant for Go callers that the library's
// messages give: an option, a function, a type to implement.
var goAPIs = regexp.MustCompile(`connector\.With|\bWith[A-Z]\w+|goairbyte\.|SecretManager|AvailableConnectors|call [A-Z]\w+|<nil>|` +
	`Environment\.|\b(source|destination|cache)\.[A-Z]|\b(Source|Destination|Cache)\.[A-Z]|LoadRequest`)

// goab's errors name its flags and variables as remedies, not the library's
// Go options: each case is a library error that used to reach the terminal
// with a Go remedy.
func TestErrorsGiveCLIRemedies(t *testing.T) {
	fk := faker(t)
	reg := filepath.Join(t.TempDir(), "registry.json")
	os.WriteFile(reg, []byte(`{"sources": [
		{"dockerRepository": "airbyte/source-javaonly", "dockerImageTag": "1.0.0", "language": "java"},
		{"dockerRepository": "airbyte/source-yamlonly", "dockerImageTag": "1.0.0", "language": "manifest-only"}],
		"destinations": []}`), 0o644)
	empty := filepath.Join(t.TempDir(), "source-empty") // a connector whose catalog has no stream
	os.WriteFile(empty, []byte("#!/bin/sh\ncase \"$1\" in\n"+
		"spec) echo '{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{\"type\":\"object\"}}}';;\n"+
		"discover) echo '{\"type\":\"CATALOG\",\"catalog\":{\"streams\":[]}}';;\nesac\n"), 0o755)
	nokey := filepath.Join(t.TempDir(), "source-nokey") // a stream with no primary key
	os.WriteFile(nokey, []byte("#!/bin/sh\ncase \"$1\" in\n"+
		"spec) echo '{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{\"type\":\"object\"}}}';;\n"+
		"discover) echo '{\"type\":\"CATALOG\",\"catalog\":{\"streams\":[{\"name\":\"s\",\"json_schema\":{},\"supported_sync_modes\":[\"full_refresh\"]}]}}';;\n"+
		"read) echo '{\"type\":\"RECORD\",\"record\":{\"stream\":\"s\",\"data\":{\"a\":1},\"emitted_at\":1}}';;\nesac\n"), 0o755)
	appendOnly := filepath.Join(t.TempDir(), "destination-appendonly") // a destination that can only append
	os.WriteFile(appendOnly, []byte("#!/bin/sh\ncase \"$1\" in\n"+
		"spec) echo '{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{\"type\":\"object\"},\"supported_destination_sync_modes\":[\"append\"]}}';;\n"+
		"write) cat >/dev/null;;\nesac\n"), 0o755)
	notAPackage := t.TempDir() // a directory pip cannot install
	noDocker := []string{"AIRBYTE_LOCAL_REGISTRY=" + reg, "DOCKER_HOST=tcp://127.0.0.1:1", "XDG_CACHE_HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want []string
	}{
		{"missing secret", nil, []string{"check", "source-faker", "--local-executable", fk, "--config", `{"count": 1, "k": "secret_reference::GOAB_NO_SUCH_SECRET"}`},
			1, []string{"Set the environment variable GOAB_NO_SUCH_SECRET", ".env"}},
		{"unknown connector", nil, []string{"spec", "source-no-such-connector-zz"},
			2, []string{"goab connectors", "--local-executable", "--manifest MANIFEST"}},
		{"knob of another way", nil, []string{"spec", "source-faker", "--local-executable", fk, "--use-host-network"},
			2, []string{"--use-host-network", "--local-executable"}},
		{"a destination as a source", nil, []string{"discover", "destination-local-json", "--config", "{}"},
			2, []string{"--destination", "goab spec, check and validate"}},
		{"a source as a destination", nil, []string{"sync", "source-faker", "--config", "{}", "--destination", "source-faker", "--destination-config", "{}"},
			2, []string{"goab sync SOURCE"}},
		{"a path as a name", nil, []string{"spec", "./bin/source-faker"},
			2, []string{"--local-executable PATH", "--docker-image IMAGE"}},
		// A local path that does not exist is refused before pip runs.
		{"pip requirement missing", nil, []string{"spec", "source-goab-nopkg", "--pip-url", "/no/such/dir"},
			1, []string{"/no/such/dir does not exist", "(--pip-url)"}},
		{"pip install fails", nil, []string{"spec", "source-goab-nopkg", "--pip-url", notAPackage},
			1, []string{"(--pip-url)", "(--use-python)"}},
		{"no streams", nil, []string{"read", "--local-executable", empty, "--config", "{}", "--no-progress"},
			1, []string{"source-empty: no streams to read"}},
		// goab gives --full-refresh and --strategy, and cannot set a primary key.
		{"replace on an incremental read", nil, []string{"read", "source-faker", "--config", `{"count": 10}`, "--strategy", "replace", "--no-progress"},
			1, []string{"--full-refresh", "--strategy merge or append"}},
		{"merge with no primary key", nil, []string{"read", "--local-executable", nokey, "--config", "{}", "--strategy", "merge", "--no-progress"},
			1, []string{"--strategy append or replace"}},
		{"a strategy the destination lacks", nil, []string{"sync", "source-faker", "--local-executable", fk, "--config", `{"count": 1}`, "--destination", "destination-appendonly",
			"--destination-local-executable", appendOnly, "--destination-config", "{}", "--strategy", "merge", "--no-cache", "--no-progress"},
			1, []string{"--strategy append", "append_dedup"}},
		{"nothing can run it", noDocker, []string{"spec", "source-javaonly"},
			2, []string{"Docker", "--local-executable", "--manifest MANIFEST"}},
		{"manifest not cached offline", noDocker, []string{"spec", "source-yamlonly"},
			1, []string{"GOAIRBYTE_MANIFEST_DIR", "--manifest"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := goab(t, tc.env, tc.args...)
			r.want(t, tc.code)
			p := errorParagraph(t, r)
			if m := goAPIs.FindString(p); m != "" {
				t.Errorf("the message names the Go API %q as a remedy: %s", m, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(p, w) {
					t.Errorf("the message lacks %q: %s", w, p)
				}
			}
		})
	}
}

// When the default cache (./.cache under the working directory) cannot be
// made, or the working directory is gone, goab names its own --cache, not
// the library's Environment.SetCacheDir and source.UseCache; so it does for
// the default cache it opens itself with --memory-limit.
func TestDefaultCacheUnusableNamesCacheFlag(t *testing.T) {
	cacheIsAFile := func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".cache"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	gone := func(*testing.T) string { return "" }
	out := []string{"--destination", "destination-local-json", "--destination-config", `{"destination_path": "` + t.TempDir() + `"}`}
	cases := []struct {
		name string
		dir  func(*testing.T) string
		args []string
		want []string
	}{
		{"read, .cache cannot be made", cacheIsAFile, nil, []string{"--cache", "a directory it can write", ".cache"}},
		{"read, working directory gone", gone, nil, []string{"--cache", "a directory that exists", "absolute"}},
		{"read --memory-limit, .cache cannot be made", cacheIsAFile, []string{"--memory-limit", "1GB"}, []string{"--cache", "a directory it can write", ".cache"}},
		{"read --memory-limit, working directory gone", gone, []string{"--memory-limit", "1GB"}, []string{"--cache", "a directory that exists", "absolute"}},
		{"sync, .cache cannot be made", cacheIsAFile, out, []string{"--cache", "a directory it can write"}},
		{"sync --no-cache, working directory gone", gone, append([]string{"--no-cache"}, out...), []string{"--cache", "a directory that exists"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := "read"
			if slices.Contains(tc.args, "--destination") {
				cmd = "sync"
			}
			args := append([]string{cmd, "source-faker", "--config", `{"count": 10}`, "--no-progress"}, tc.args...)
			r := goabIn(t, tc.dir(t), nil, args...)
			r.want(t, 1)
			p := errorParagraph(t, r)
			if m := goAPIs.FindString(p); m != "" {
				t.Errorf("the message names the Go API %q as a remedy: %s", m, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(p, w) {
					t.Errorf("the message lacks %q: %s", w, p)
				}
			}
		})
	}
}

// TestLoopbackAdviceNamesTheFlag: a connector in a container that cannot
// reach the localhost its config names is told to run on the host's network,
// by goab's flag, not by the Go option the library names.
func TestLoopbackAdviceNamesTheFlag(t *testing.T) {
	cli := testenv.Docker(t)
	const image = "goairbyte-test/dialer:0.1.0"
	testenv.BuildImage(t, cli, "./internal/testconnectors/dialer", image)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	config := `{"url": "` + srv.URL + `"}`
	for _, args := range [][]string{
		{"check", "source-dialer", "--docker-image", image, "--config", config},
		{"read", "source-dialer", "--docker-image", image, "--config", config, "--no-progress"},
	} {
		r := goab(t, nil, args...)
		r.want(t, 1)
		p := errorParagraph(t, r)
		if m := goAPIs.FindString(p); m != "" || !strings.Contains(p, "(--use-host-network)") {
			t.Errorf("goab %s: want the advice of --use-host-network, and no Go API: %s", args[0], p)
		}
	}
}
