package atomicfile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cursor.json")
	for _, content := range []string{`{"n":1}`, `{"n":2}`} {
		if err := Write(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want only the file itself", len(entries))
	}
	// A failed write leaves the old content and no temporary file.
	if err := Write(filepath.Join(dir, "missing", "x.json"), []byte("{}"), 0o644); err == nil {
		t.Fatal("a write into a missing directory succeeded")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "sub"), []byte("{}"), 0o644); err == nil {
		t.Fatal("a write over a directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries after failed writes, want the file and sub", len(entries))
	}
}

// TestKilledWriterChild is a writer of TestKilledWritersLeaveNoTemp
// killed after it made its temporary file: it makes one and waits.
func TestKilledWriterChild(t *testing.T) {
	path := os.Getenv("ATOMICFILE_PATH")
	if path == "" {
		t.Skip("run by TestKilledWritersLeaveNoTemp")
	}
	f, err := createTemp(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"half":`)
	os.Stdout.WriteString("temp " + filepath.Base(f.Name()) + "\n")
	select {}
}

// A writer killed with -9 before its rename leaves its temporary file; the
// next process's first Write of the path removes it, but not the temporary
// file of a writer that still runs.
func TestKilledWritersLeaveNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registry.json")
	writer := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterChild$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_PATH="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, _ := bufio.NewReader(out).ReadString('\n')
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "temp ")
		if !ok {
			t.Fatalf("the writer said %q", line)
		}
		return cmd, name
	}
	killed, dead := writer()
	killed.Process.Kill()
	killed.Wait()
	_, live := writer()

	if err := Write(path, []byte(`{"n":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, dead)); !os.IsNotExist(err) {
		t.Errorf("the killed writer's %s is still there (%v)", dead, err)
	}
	if _, err := os.Stat(filepath.Join(dir, live)); err != nil {
		t.Errorf("the running writer's %s was removed: %v", live, err)
	}
}
