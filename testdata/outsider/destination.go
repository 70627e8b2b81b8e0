package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"example.com/outsider/events"
	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

// eventStore plays the company's event store: batches of records POSTed
// per stream, stored once per idempotency key; from the failFrom-th POST
// on it answers 503.
type eventStore struct {
	mu       sync.Mutex
	stored   map[string]int // records per stream
	distinct map[string]bool
	twice    int
	keys     map[string]bool
	posts    int
	failFrom int
}

func (s *eventStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != secret {
		http.Error(w, "unknown key", http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/ping" {
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts++
	if s.failFrom > 0 && s.posts >= s.failFrom {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if key := r.Header.Get("Idempotency-Key"); s.keys[key] {
		return
	} else {
		s.keys[key] = true
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(body, &batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	stream := strings.TrimPrefix(r.URL.Path, "/streams/")
	for _, rec := range batch {
		s.stored[stream]++
		if s.distinct[stream+string(rec)] {
			s.twice++
		}
		s.distinct[stream+string(rec)] = true
	}
}

func (s *eventStore) count(stream string) (stored, twice int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored[stream], s.twice
}

// destinationJourney writes the faker's users into the event store through
// the kit destination, in process and as the program exe: a check with a
// wrong key (the key never shown, by goairbyte nor by the program itself),
// a write the store fails midway (states every 10,000 rows: the first
// confirmed), and the next write sending only what was not confirmed.
func destinationJourney(ctx context.Context, exe string) error {
	c, err := goairbyte.NewLocalCache(ctx, "events", "")
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := fakerUsers(ctx, c, 25000)
	if err != nil {
		return err
	}
	// The program, checked as any Airbyte runner checks it: its own output
	// must not show the key it quotes.
	dir, err := os.MkdirTemp("", "events-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, way := range []connector.Option{connector.WithGoConnector(events.Destination{}), connector.WithLocalExecutable(exe)} {
		store := &eventStore{stored: map[string]int{}, distinct: map[string]bool{}, keys: map[string]bool{}}
		srv := httptest.NewServer(store)
		bad, err := goairbyte.GetDestination(ctx, "destination-events", way, connector.WithLogger(logger),
			connector.WithConfig(map[string]any{"url": srv.URL, "api_key": secret + "-old"}))
		if err != nil {
			srv.Close()
			return err
		}
		err = seen(bad.Check(ctx))
		want(errors.Is(err, goairbyte.ErrCheckFailed), "a check with a wrong key: %v, want ErrCheckFailed", err)
		cfgPath := filepath.Join(dir, "config.json")
		if err := os.WriteFile(cfgPath, fmt.Appendf(nil, `{"url":%q,"api_key":%q}`, srv.URL, secret+"-old"), 0o600); err != nil {
			srv.Close()
			return err
		}
		var out bytes.Buffer
		check := exec.CommandContext(ctx, exe, "check", "--config", cfgPath)
		check.Stdout, check.Stderr = &out, &out
		err = check.Run()
		want(err == nil && strings.Contains(out.String(), "FAILED") && !strings.Contains(out.String(), secret),
			"the program's check with a wrong key: %v, printed %s", err, out.String())

		dst, err := goairbyte.GetDestination(ctx, "destination-events", way, connector.WithLogger(logger),
			connector.WithConfig(map[string]any{"url": srv.URL, "api_key": secret}))
		if err != nil {
			srv.Close()
			return err
		}
		store.mu.Lock()
		store.failFrom = 150 // 149 batches of 100 stored
		store.mu.Unlock()
		w1, err := dst.Write(ctx, res, destination.Strategy(cache.StrategyAppend))
		want(errors.Is(seen(err), goairbyte.ErrConnectorFailed), "a write the store failed: %v, want ErrConnectorFailed", err)
		if w1 == nil {
			srv.Close()
			return err
		}
		storedBefore, _ := store.count("users")
		store.mu.Lock()
		store.failFrom = 0
		store.mu.Unlock()
		w2, err := dst.Write(ctx, res, destination.Strategy(cache.StrategyAppend))
		if seen(err) != nil {
			srv.Close()
			return err
		}
		stored, twice := store.count("users")
		srv.Close()
		fmt.Printf("%s: failed write confirmed %v with %d stored, next write sent %v, %d stored, %d twice\n",
			dst, w1.RecordsConfirmed, storedBefore, w2.RecordsSent, stored, twice)
	}
	return nil
}

// fakerUsers reads count of the faker's users into c.
func fakerUsers(ctx context.Context, c *cache.Cache, count int) (*source.ReadResult, error) {
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": count}))
	if err != nil {
		return nil, err
	}
	if err := src.SelectStreams(ctx, "users"); err != nil {
		return nil, err
	}
	return src.Read(ctx, source.UseCache(c))
}
