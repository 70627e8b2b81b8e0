package executor_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/x/goairbyte/executor"
	"github.com/x/goairbyte/protocol"
)

// A connector that is there and executable but that the system cannot
// start used to fail with the bare errno: "exec format error" for a script
// without a #! line (which a shell runs anyway, so it works by hand) or a
// binary built for another machine, and "no such file or directory" for a
// file that exists, whose #! interpreter or dynamic loader does not. The
// error now says which and what to do, and still wraps the errno.
func TestLocalCannotStart(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the ELF cases need Linux")
	}
	dir := filepath.Join(t.TempDir(), "connectors with spaces")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, body []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	self, err := os.ReadFile("/proc/self/exe") // this test binary: an ELF for this machine
	if err != nil {
		t.Fatal(err)
	}
	foreign := bytes.Clone(self)
	other, otherName := elf.EM_AARCH64, "EM_AARCH64"
	if runtime.GOARCH == "arm64" {
		other, otherName = elf.EM_X86_64, "EM_X86_64"
	}
	binary.LittleEndian.PutUint16(foreign[18:], uint16(other)) // e_machine
	// A dynamically linked program whose loader is not on this system (a
	// binary built against musl, say): /bin/true with another loader.
	loaderless, loader := withoutLoader(t, "/bin/true")

	for _, tc := range []struct {
		name  string
		body  []byte
		errno syscall.Errno
		want  []string
	}{
		{"source-noshebang", []byte("echo '{}'\n"), syscall.ENOEXEC, []string{"#!", "#!/bin/sh"}},
		{"source-badinterp", []byte("#!/usr/bin/goairbyte-no-such-python3 -u\nprint(1)\n"), syscall.ENOENT,
			[]string{"/usr/bin/goairbyte-no-such-python3", "#!"}},
		{"source-crlf", []byte("#! /bin/sh\r\necho '{}'\r\n"), syscall.ENOENT, []string{"dos2unix", `"/bin/sh\r"`}},
		{"source-loaderless", loaderless, syscall.ENOENT, []string{loader, "dynamic loader"}},
		{"source-arm", foreign, syscall.ENOEXEC, []string{otherName, runtime.GOOS + "/" + runtime.GOARCH}},
	} {
		p := write(tc.name, tc.body)
		ex, err := executor.New(tc.name, executor.Method{Kind: executor.KindLocal, Path: p}, executor.Runtime{LogDir: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
		if err == nil || !errors.Is(err, tc.errno) {
			t.Fatalf("%s: want an error wrapping %v, got %v", tc.name, tc.errno, err)
		}
		for _, w := range append(tc.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error does not say %q: %v", tc.name, w, err)
			}
		}
	}
}

// withoutLoader returns the program at path with its ELF interpreter (the
// dynamic loader) renamed to one that does not exist, and that name.
func withoutLoader(t *testing.T, path string) ([]byte, string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Skipf("no dynamically linked %s to patch: %v", path, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		interp := body[prog.Off : prog.Off+prog.Filesz]
		i := bytes.IndexByte(interp, 0)
		if i < 2 {
			t.Fatalf("odd interpreter in %s: %q", path, interp)
		}
		interp[i-1] = 'Z' // /lib64/ld-linux-x86-64.so.2 -> /lib64/ld-linux-x86-64.so.Z
		return body, string(interp[:i])
	}
	t.Skipf("%s is statically linked", path)
	return nil, ""
}

// A connector whose output starts with a UTF-8 byte order mark (Python with
// PYTHONIOENCODING=utf-8-sig, a .NET console writer with the preamble) had
// its first message taken for a line of chatter: a spec "ended without a
// SPEC message". The mark at the start of the output is dropped.
func TestLocalOutputStartsWithBOM(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "source-bom")
	script := "#!/bin/sh\nprintf '\\357\\273\\277{\"type\":\"SPEC\",\"spec\":{\"connectionSpecification\":{}}}\\n'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ex := build[executor.Executor](t, "source-bom", executor.Method{Kind: executor.KindLocal, Path: p}, executor.Runtime{LogDir: t.TempDir()})
	msgs, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	if err != nil || len(msgs) != 1 || msgs[0].Spec == nil {
		t.Fatalf("want the SPEC, got %+v, %v", msgs, err)
	}
}

// A directory given as the connector (the connector's checkout, its venv)
// was "missing", with the advice to install it; the error now says it is a
// directory and to pass the program in it.
func TestLocalPathIsADirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := executor.New("source-x", executor.Method{Kind: executor.KindLocal, Path: dir}, executor.Runtime{})
	if !errors.Is(err, executor.ErrNotInstalled) || !strings.Contains(err.Error(), dir+" is a directory") ||
		strings.Contains(err.Error(), "install it") {
		t.Fatalf("want ErrNotInstalled saying %s is a directory, not to install it, got %v", dir, err)
	}
}

// A connector whose answer is not a protocol message (here "type" in lower
// case) failed with "it ended without a SPEC message" and no clue; the
// error now says it wrote lines that are not messages, and quotes the
// first.
func TestLocalAnswerThatDoesNotParse(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "source-lower")
	script := "#!/bin/sh\necho '{\"type\":\"spec\",\"spec\":{\"connectionSpecification\":{}}}'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ex := build[executor.Executor](t, "source-lower", executor.Method{Kind: executor.KindLocal, Path: p}, executor.Runtime{LogDir: t.TempDir()})
	_, err := collect(ex.Run(context.Background(), executor.Invocation{Verb: executor.VerbSpec}))
	ce := asConnectorError(t, err)
	if ce.Missing != protocol.TypeSpec || !strings.Contains(err.Error(), "1 line") || !strings.Contains(err.Error(), `{"type":"spec"`) {
		t.Fatalf("want the missing SPEC, with the line that is no message, got %v", err)
	}
}
