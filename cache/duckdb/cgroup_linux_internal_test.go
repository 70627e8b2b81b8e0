package duckdb

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/testenv"
)

// TestCgroupChild joins the memory cgroup CGROUP_CHILD names, opens a
// cache with the default options and prints its memory limit;
// TestDefaultLimitFollowsTheContainer runs it.
func TestCgroupChild(t *testing.T) {
	group := os.Getenv("CGROUP_CHILD")
	if group == "" {
		t.Skip("run by TestDefaultLimitFollowsTheContainer")
	}
	if err := os.WriteFile(filepath.Join(group, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	be, err := newConnector(filepath.Join(t.TempDir(), "c.duckdb")).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*database)
	defer b.Close()
	fmt.Printf("limit %d %s\n", b.memoryLimit, b.limitSetting)
}

// In a container of 128 MiB the default limit of 128MB got goab's load of
// 1M faker users and purchases killed by the kernel (exit 137, nothing
// said), where 64MB loaded: a cache given no limit takes half the memory
// the process may use when that is less than 128MB. The child runs in a
// memory cgroup of its own, as a container's process does.
func TestDefaultLimitFollowsTheContainer(t *testing.T) {
	testenv.NeedRoot(t, "making a memory cgroup")
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
		t.Skipf("no cgroup v1 memory controller at %s: %v", root, err)
	}
	group, err := os.MkdirTemp(root, "goairbyte-test-")
	if err != nil {
		t.Skipf("cannot make a memory cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(group) })
	const cgroupLimit = 128 << 20
	if err := os.WriteFile(filepath.Join(group, "memory.limit_in_bytes"), []byte(strconv.Itoa(cgroupLimit)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCgroupChild$", "-test.v")
	cmd.Env = append(os.Environ(), "CGROUP_CHILD="+group)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child: %v\n%s", err, out)
	}
	var limit int64
	var setting string
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		if _, err := fmt.Sscanf(sc.Text(), "limit %d %s", &limit, &setting); err == nil {
			break
		}
	}
	if limit <= 0 {
		t.Fatalf("the child printed no limit:\n%s", out)
	}
	if limit > cgroupLimit/2 || limit < cgroupLimit/3 {
		t.Fatalf("a cache given no limit in a cgroup of 128 MiB has the limit %s (%d bytes), not half the cgroup's", setting, limit)
	}
	// Outside (this machine's memory, several GB), the default stands.
	if processMemory() > 1<<30 && defaultLimit() != defaultMemoryLimit {
		t.Errorf("with %d bytes the default is %s", processMemory(), defaultLimit())
	}
}
