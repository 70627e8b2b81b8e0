package connections

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/x/goairbyte/internal/atomicfile"
	"github.com/x/goairbyte/internal/filelock"
)

// state is what the reconciler keeps between runs: for each secret it
// applied, an HMAC-SHA256 of the value under a random key kept in the same
// file. A fingerprint tells whether a declared secret differs from the one
// last applied without keeping the secret; the file should still be kept
// private (it is written 0600), since a fingerprint lets whoever has the
// key test guesses of a weak secret. The fingerprints are of the secrets
// sent to one object, whose id IDs keeps: another object of that name (the
// first deleted, another made in the UI) may hold other secrets.
type state struct {
	path string
	// Version is stateVersion when written; files of earlier versions
	// have none.
	Version      int               `json:"version"`
	Key          string            `json:"key"`
	Fingerprints map[string]string `json:"fingerprints"`
	// IDs are the remote ids of the objects the Config declared at an
	// Apply, by kind/name: those it made or changed, and those it found
	// as declared. DeleteRemoved deletes what they hold and the Config no
	// longer declares; Apply forgets an object it deletes, or finds gone.
	IDs map[string]string `json:"ids,omitempty"`
}

// stateVersion is the version of the state file this package writes. A
// later one may hold what this package does not know, which reading and
// saving it back would lose: it is refused.
const stateVersion = 1

func loadState(path string) (*state, error) {
	st := &state{path: path, Version: stateVersion, Fingerprints: map[string]string{}, IDs: map[string]string{}}
	if path == "" {
		return st, st.newKey()
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, st.newKey()
	}
	if err != nil {
		return nil, err
	}
	// What to do about a state file that cannot be read: it holds no
	// more than what lets the plan compare secrets and what
	// DeleteRemoved deletes.
	const remedy = "; it only lets plans compare secrets and tells DeleteRemoved what this file applied: remove it, and the next plan shows secrets as not comparable and apply sends them again and records what the file declares (not what was removed from it before)"
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("connections: state file %s is not valid (%w)%s", path, err, remedy)
	}
	if st.Version > stateVersion {
		return nil, fmt.Errorf("connections: state file %s is of version %d, written by a later goairbyte (this one writes version %d): use that one%s",
			path, st.Version, stateVersion, remedy)
	}
	st.Version = stateVersion
	if st.Fingerprints == nil {
		st.Fingerprints = map[string]string{}
	}
	if st.IDs == nil {
		st.IDs = map[string]string{}
	}
	if _, err := base64.StdEncoding.DecodeString(st.Key); err != nil || st.Key == "" {
		return nil, fmt.Errorf("connections: state file %s has no valid key%s", path, remedy)
	}
	return st, nil
}

func (st *state) newKey() error {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return err
	}
	st.Key = base64.StdEncoding.EncodeToString(k[:])
	return nil
}

// fingerprint is the HMAC of a secret value.
func (st *state) fingerprint(value any) string {
	key, _ := base64.StdEncoding.DecodeString(st.Key)
	m := hmac.New(sha256.New, key)
	b, _ := json.Marshal(value)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// secretKey names a secret in the state: kind/name/path.
func secretKey(kind Kind, name string, path []string) string {
	return string(kind) + "/" + name + "/" + strings.Join(path, ".")
}

// objectKey names an object in the state: kind/name.
func objectKey(kind Kind, name string) string { return string(kind) + "/" + name }

// forget drops the fingerprints and the id of an object. A name may hold
// a "/": the fingerprints of another object whose name begins with this
// one's and a "/" (harvest/eu beside harvest) share their prefix, and are
// kept. Every object with fingerprints has its id recorded (Apply records
// both), which is how they are told apart.
func (st *state) forget(kind Kind, name string) {
	delete(st.IDs, objectKey(kind, name))
	prefix := objectKey(kind, name) + "/"
	var longer []string
	for k := range st.IDs {
		if strings.HasPrefix(k, prefix) {
			longer = append(longer, k+"/")
		}
	}
	for k := range st.Fingerprints {
		if strings.HasPrefix(k, prefix) && !slices.ContainsFunc(longer, func(o string) bool { return strings.HasPrefix(k, o) }) {
			delete(st.Fingerprints, k)
		}
	}
}

// lock takes the lock of the state file for an apply (saying so to logger,
// when not nil, once it has waited a while) and reloads the
// state: the file may have changed since the plan read it (another process
// applied), and saving what the plan read would lose that apply's
// fingerprints, or all of them when the two runs made different keys.
func (st *state) lock(ctx context.Context, logger *slog.Logger) (unlock func(), err error) {
	if st.path == "" {
		return func() {}, nil
	}
	unlock, err = filelock.Lock(ctx, st.path+".lock", logger, "the state file "+st.path+", to apply (another apply holds it)")
	if err != nil {
		return nil, fmt.Errorf("connections: state file %s: %w", st.path, err)
	}
	fresh, err := loadState(st.path)
	if err != nil {
		unlock()
		return nil, err
	}
	*st = *fresh
	return unlock, nil
}

// save writes the state atomically.
func (st *state) save() error {
	if st.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	// Losing it would make the next apply create everything again:
	// replaced so that a crash or a power loss leaves the old or the new.
	return atomicfile.Write(st.path, append(b, '\n'), 0o600)
}
