package secrets

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/x/goairbyte/internal/masklease"
)

// TestLeasedValueMaskedUntilReleased: a held value is masked, in all its
// forms, until it is released, and not after; releasing twice is releasing
// once.
func TestLeasedValueMaskedUntilReleased(t *testing.T) {
	tok := "lease-test-token/1+é"
	line := func() string {
		return fmt.Sprintf("Bearer %s %s %s", tok, jsonEscaped(tok, true), encodedForms(tok)[7]) // raw, JSON, base64
	}
	release := masklease.Hold(tok)
	if got := Mask(line()); got != "Bearer **** **** ****" {
		t.Fatalf("while held: %q", got)
	}
	release()
	release()
	if got := Mask(line()); got != line() {
		t.Fatalf("after the release: %q, want it unmasked", got)
	}
}

// TestReleaseKeepsWhatOthersHold: releasing a lease leaves a value masked
// while it is registered for good or another lease holds it.
func TestReleaseKeepsWhatOthersHold(t *testing.T) {
	Register("lease-test-permanent-1")
	release := masklease.Hold("lease-test-permanent-1", "lease-test-shared-2")
	releaseAgain := masklease.Hold("lease-test-shared-2")
	release()
	if got := Mask("lease-test-permanent-1 lease-test-shared-2"); got != "**** ****" {
		t.Fatalf("after one release: %q", got)
	}
	releaseAgain()
	if got := Mask("lease-test-permanent-1 lease-test-shared-2"); got != "**** lease-test-shared-2" {
		t.Fatalf("after both releases: %q", got)
	}
	// Registered for good after it was held: the release keeps it.
	release = masklease.Hold("lease-test-later-3")
	Register("lease-test-later-3")
	release()
	if got := Mask("lease-test-later-3"); got != masked {
		t.Fatalf("registered while held, then released: %q", got)
	}
}

// TestLeasesKeepTheSetBounded: a value renewed again and again, holding
// the last two, keeps the set at the size of two of them.
func TestLeasesKeepTheSetBounded(t *testing.T) {
	m := &masker{values: map[string]struct{}{}}
	m.register([]string{"configured-secret"})
	var held [2]func()
	for i := range 100 {
		release := m.lease([]string{fmt.Sprintf("token-%03d", i)})
		if held[1] != nil {
			held[1]()
		}
		held = [2]func(){release, held[0]}
	}
	want := len(maskForms([]string{"configured-secret", "token-098", "token-099"}))
	if n := len(m.state.Load().values); n != want {
		t.Fatalf("%d values masked after 100 renewals, want %d", n, want)
	}
	held[0]()
	held[1]()
	if got := m.state.Load().values; !slicesEqualSet(got, maskForms([]string{"configured-secret"})) {
		t.Fatalf("after releasing all: %q", got)
	}
	empty := &masker{values: map[string]struct{}{}}
	empty.lease([]string{"only-held"})()
	if empty.state.Load() != nil {
		t.Fatal("a masker whose only lease was released still masks")
	}
}

func slicesEqualSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]bool{}
	for _, v := range a {
		set[v] = true
	}
	for _, v := range b {
		if !set[v] {
			return false
		}
	}
	return true
}

// TestLeaseConcurrent: holding, releasing, registering and masking at once
// are race-free (go test -race), and what stays registered stays masked.
func TestLeaseConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				release := masklease.Hold(fmt.Sprintf("lease-concurrent-%d-%d", i, j), "lease-concurrent-shared")
				Mask("lease-concurrent-shared lease-concurrent-1-1")
				release()
			}
		})
		wg.Go(func() { Register(fmt.Sprintf("lease-concurrent-kept-%d", i)) })
		wg.Go(func() {
			for range 100 {
				maskBytes([]byte("lease-concurrent-shared"))
			}
		})
	}
	wg.Wait()
	if got := Mask("lease-concurrent-kept-7 lease-concurrent-shared lease-concurrent-3-3"); got != "**** lease-concurrent-shared lease-concurrent-3-3" {
		t.Fatalf("got %q", got)
	}
	if strings.Contains(Mask("lease-concurrent-kept-0"), "kept") {
		t.Fatal("a value registered for good was lost")
	}
}

// TestMaskErrorMasksWhileHeld: an error wrapped while a value was held
// stays masked once the lease is released (a server keeps the errors of
// runs whose connectors are gone), and still unwraps to the original.
func TestMaskErrorMasksWhileHeld(t *testing.T) {
	tok := "lease-test-error-token-1"
	base := errors.New("refused " + tok)
	release := masklease.Hold(tok)
	err := MaskError(fmt.Errorf("check: %w", base))
	release()
	if got := err.Error(); got != "check: refused ****" {
		t.Fatalf("after the release: %q", got)
	}
	if !errors.Is(err, base) {
		t.Fatal("the masked error lost its chain")
	}
	// Wrapped again after the release, it is the same error.
	if MaskError(err) != err {
		t.Fatal("MaskError of a masked error made another one")
	}
	// A value held after the first wrap is masked by a second one.
	later := "lease-test-error-later-2"
	err = MaskError(errors.New("a " + later))
	release = masklease.Hold(later)
	defer release()
	if got := MaskError(err).Error(); got != "a ****" {
		t.Fatalf("wrapped again while held: %q", got)
	}
}
