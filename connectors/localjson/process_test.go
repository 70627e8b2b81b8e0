package localjson_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/x/goairbyte/internal/protocoltest"
	"github.com/x/goairbyte/protocol"
)

// TestKillMidStream feeds the built binary part of a sync, waits until it has
// processed all of it, SIGKILLs it and checks that every echoed state is
// covered by data on disk, that nothing held back was echoed, and that the
// next sync recovers the staged records.
func TestKillMidStream(t *testing.T) {
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cfg := configFile(t, tmp, dest)
	cat := catalogFile(t, tmp,
		configured("app", protocol.DestinationAppend),
		configured("dd", protocol.DestinationAppendDedup, []string{"id"}),
		configured("ow", protocol.DestinationOverwrite),
	)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	oldOW := []byte(`{"_airbyte_ab_id":"01KAAAAAAAAAAAAAAAAAAAAAAA","_airbyte_emitted_at":1,"_airbyte_data":{"old":true}}` + "\n")
	writeJSON(t, dest, "_airbyte_raw_ow.jsonl", string(oldOW))

	cmd := exec.Command(destBin, "write", "--config", cfg, "--catalog", cat)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Three rounds of 100 records per stream, each ended by a state for app
	// and dd (echoed at once); then overwrite records and an ow state (held
	// until a commit that never comes), app records and an app state (held
	// behind it), more records with no state, and a record of a stream not in
	// the catalog, whose LOG WARN tells us that everything before it has been
	// processed.
	var in strings.Builder
	id := 0
	for round := 1; round <= 3; round++ {
		for i := 0; i < 100; i++ {
			id++
			for _, s := range []string{"app", "dd", "ow"} {
				in.WriteString(recordMsg(s, fmt.Sprintf(`{"id":%d,"pad":"%s"}`, id, strings.Repeat("x", 200))))
			}
		}
		in.WriteString(stateMsg("app", round) + stateMsg("dd", round))
	}
	for i := 0; i < 50; i++ {
		id++
		in.WriteString(recordMsg("ow", fmt.Sprintf(`{"id":%d}`, id)) + recordMsg("app", fmt.Sprintf(`{"id":%d}`, id)) + recordMsg("dd", fmt.Sprintf(`{"id":%d}`, id)))
	}
	in.WriteString(stateMsg("ow", 1) + stateMsg("app", 4))
	for i := 0; i < 50; i++ {
		id++
		in.WriteString(recordMsg("app", fmt.Sprintf(`{"id":%d}`, id)) + recordMsg("dd", fmt.Sprintf(`{"id":%d}`, id)))
	}
	in.WriteString(recordMsg("barrier", `{}`))
	go func() {
		io.WriteString(stdin, in.String())
		// Keep stdin open: the sync must not see the end of its input.
	}()

	// Stdout follows the order of the input: once the barrier's warning is
	// out, every state before it that is echoed at all has been echoed.
	var echoed []*protocol.State
	sc := bufio.NewScanner(stdoutPipe)
	for sc.Scan() {
		line := sc.Bytes()
		if err := protocoltest.ValidateMessage(line); err != nil {
			t.Errorf("invalid stdout line %s: %v", line, err)
		}
		m := protocol.ParseMessage(line)
		if m.Type == protocol.TypeState {
			echoed = append(echoed, m.State)
		}
		if m.Type == protocol.TypeLog && strings.Contains(m.Log.Message, `"barrier"`) {
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdoutPipe)
	cmd.Wait()
	if bytes.Contains(rest, []byte(`"STATE"`)) {
		t.Errorf("a state was echoed after the barrier: %s", rest)
	}

	// Exactly the six states whose records were fsynced, in order.
	if len(echoed) != 6 {
		t.Fatalf("echoed %d states before the kill, want 6 (stderr %s)", len(echoed), stderr.String())
	}
	claimed := map[string]float64{}
	for i, s := range echoed {
		name := s.Stream.StreamDescriptor.Name
		wantName := []string{"app", "dd"}[i%2]
		wantState := fmt.Sprintf(`{"n":%d}`, i/2+1)
		if name != wantName || string(s.Stream.StreamState) != wantState || *s.DestinationStats.RecordCount != 100 {
			t.Errorf("echoed state %d: %s %s count %v; want %s %s count 100", i, name, s.Stream.StreamState, *s.DestinationStats.RecordCount, wantName, wantState)
		}
		claimed[name] += *s.DestinationStats.RecordCount
	}

	// Everything claimed is on disk: ids 1..300 of app in its file and of dd
	// in its staging file. The overwrite stream's old file is untouched.
	lines, _ := readStream(t, dest, "app")
	if ids := idsOf(t, lines); len(ids) < int(claimed["app"]) || !slices.Equal(ids[:300], seq(1, 300)) {
		t.Errorf("app file holds %d records, the claimed ones are not all there", len(ids))
	}
	f, err := os.Open(filepath.Join(dest, "._airbyte_raw_dd.jsonl.staging"))
	if err != nil {
		t.Fatalf("staging file of dd: %v", err)
	}
	staged, _ := parseLines(t, f)
	f.Close()
	if ids := idsOf(t, staged); len(ids) < int(claimed["dd"]) || !slices.Equal(ids[:300], seq(1, 300)) {
		t.Errorf("dd staging file holds %d records, the claimed ones are not all there", len(ids))
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "_airbyte_raw_ow.jsonl")); !bytes.Equal(got, oldOW) {
		t.Errorf("the killed overwrite changed the stream's file: %q", got)
	}

	// The next sync (here: no new records) repairs cut lines and merges
	// what was staged.
	r := run(t, "", "write", "--config", cfg, "--catalog", cat)
	if r.code != 0 {
		t.Fatalf("second write: %d %s", r.code, r.stderr)
	}
	lines, partial := readStream(t, dest, "dd")
	if ids := idsOf(t, lines); partial || len(ids) < 300 || !slices.Equal(ids[:300], seq(1, 300)) {
		t.Errorf("dd after recovery: %d records (partial %v)", len(ids), partial)
	}
	if _, partial := readStream(t, dest, "app"); partial {
		t.Errorf("app still ends in a cut line after the next sync")
	}
	if _, err := os.Stat(filepath.Join(dest, "._airbyte_raw_dd.jsonl.staging")); !os.IsNotExist(err) {
		t.Errorf("staging file still there after a successful sync: %v", err)
	}
}

func idsOf(t testing.TB, lines []rawLine) []int {
	t.Helper()
	var ids []int
	for _, l := range lines {
		var d struct{ ID int }
		if err := json.Unmarshal(l.Data, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// TestPipeFromFaker pipes the faker's read into the destination's write, as
// two plain processes, three times, and checks the files and the states.
func TestPipeFromFaker(t *testing.T) {
	if fakerBuildErr != nil {
		t.Fatal(fakerBuildErr)
	}
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	destCfg := configFile(t, tmp, dest)
	modes := map[string]protocol.DestinationSyncMode{
		"products":  protocol.DestinationOverwrite,
		"users":     protocol.DestinationAppendDedup,
		"purchases": protocol.DestinationAppend,
	}
	fakerCfg := func(count int) string {
		return writeJSON(t, tmp, fmt.Sprintf("faker-%d.json", count), fmt.Sprintf(`{"count":%d,"seed":7,"records_per_slice":40,"always_updated":false}`, count))
	}

	// The configured catalog comes from the faker's discover.
	out, err := exec.Command(fakerBin, "discover", "--config", fakerCfg(10)).Output()
	if err != nil {
		t.Fatalf("faker discover: %v", err)
	}
	var cat protocol.ConfiguredCatalog
	for _, l := range bytes.Split(out, []byte("\n")) {
		if m := protocol.ParseMessage(l); m.Type == protocol.TypeCatalog {
			for _, s := range m.Catalog.Streams {
				cat.Streams = append(cat.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.SyncIncremental, DestinationSyncMode: modes[s.Name], PrimaryKey: [][]string{{"id"}}, CursorField: s.DefaultCursorField})
			}
		}
	}
	if len(cat.Streams) != 3 {
		t.Fatalf("faker discover gave %d streams: %s", len(cat.Streams), out)
	}
	catPath := catalogFile(t, tmp, cat.Streams...)

	pipe := func(count int) {
		t.Helper()
		cfg := fakerCfg(count)
		// What the source says on its own, for the expected states.
		srcOut, err := exec.Command(fakerBin, "read", "--config", cfg, "--catalog", catPath).Output()
		if err != nil {
			t.Fatalf("faker read: %v", err)
		}
		var want []*protocol.State
		sent := map[string]int{}
		for _, l := range bytes.Split(srcOut, []byte("\n")) {
			switch m := protocol.ParseMessage(l); m.Type {
			case protocol.TypeState:
				want = append(want, m.State)
			case protocol.TypeRecord:
				sent[m.Record.Stream]++
			}
		}

		src := exec.Command(fakerBin, "read", "--config", cfg, "--catalog", catPath)
		dst := exec.Command(destBin, "write", "--catalog", catPath, "--config", destCfg)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		src.Stdout, dst.Stdin = w, r
		var dstOut, dstErr, srcErr bytes.Buffer
		dst.Stdout, dst.Stderr, src.Stderr = &dstOut, &dstErr, &srcErr
		if err := dst.Start(); err != nil {
			t.Fatal(err)
		}
		if err := src.Start(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		w.Close()
		if err := src.Wait(); err != nil {
			t.Fatalf("faker read: %v\n%s", err, srcErr.String())
		}
		if err := dst.Wait(); err != nil {
			t.Fatalf("destination write: %v\n%s", err, dstErr.String())
		}

		var got []*protocol.State
		for _, l := range bytes.Split(bytes.TrimSpace(dstOut.Bytes()), []byte("\n")) {
			if err := protocoltest.ValidateMessage(l); err != nil {
				t.Errorf("destination line invalid: %v: %s", err, l)
			}
			if m := protocol.ParseMessage(l); m.Type == protocol.TypeState {
				got = append(got, m.State)
			}
		}
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("count %d: destination echoed %d states, source emitted %d", count, len(got), len(want))
		}
		echoedCount := map[string]float64{}
		for i := range want {
			g, w := got[i], want[i]
			if g.Stream.StreamDescriptor != w.Stream.StreamDescriptor || !bytes.Equal(g.Stream.StreamState, w.Stream.StreamState) {
				t.Fatalf("state %d out of order: got %s %s, want %s %s", i, g.Stream.StreamDescriptor.Name, g.Stream.StreamState, w.Stream.StreamDescriptor.Name, w.Stream.StreamState)
			}
			echoedCount[g.Stream.StreamDescriptor.Name] += *g.DestinationStats.RecordCount
		}
		for s, n := range sent {
			if echoedCount[s] != float64(n) {
				t.Errorf("count %d: stream %s: destinationStats add up to %v, the source sent %d", count, s, echoedCount[s], n)
			}
		}
	}

	lineCounts := func() map[string][]int {
		m := map[string][]int{}
		for _, s := range []string{"products", "users", "purchases"} {
			lines, partial := readStream(t, dest, s)
			if partial {
				t.Errorf("%s ends in a cut line", s)
			}
			m[s] = idsOf(t, lines)
		}
		return m
	}
	sorted := func(ids []int) []int { ids = slices.Clone(ids); slices.Sort(ids); return ids }

	pipe(250)
	ids := lineCounts()
	if !slices.Equal(sorted(ids["products"]), seq(1, 100)) || !slices.Equal(sorted(ids["users"]), seq(1, 250)) || !slices.Equal(sorted(ids["purchases"]), seq(1, 250)) {
		t.Errorf("after sync 1: products %d, users %d, purchases %d records", len(ids["products"]), len(ids["users"]), len(ids["purchases"]))
	}

	// The same read again: overwrite replaces, dedup keeps one line per id,
	// append adds.
	pipe(250)
	ids = lineCounts()
	if !slices.Equal(sorted(ids["products"]), seq(1, 100)) || !slices.Equal(sorted(ids["users"]), seq(1, 250)) {
		t.Errorf("after sync 2: products %d, users %d records", len(ids["products"]), len(ids["users"]))
	}
	var twice []int
	for _, id := range seq(1, 250) {
		twice = append(twice, id, id)
	}
	if p := sorted(ids["purchases"]); !slices.Equal(p, twice) {
		t.Errorf("after sync 2: purchases %d records, want ids 1..250 twice each", len(p))
	}

	// More users: 37 → purchases = count−1 for a count ending in 7.
	pipe(337)
	ids = lineCounts()
	if !slices.Equal(sorted(ids["users"]), seq(1, 337)) || len(ids["products"]) != 100 || len(ids["purchases"]) != 500+336 {
		t.Errorf("after sync 3: products %d, users %d, purchases %d records", len(ids["products"]), len(ids["users"]), len(ids["purchases"]))
	}
}
