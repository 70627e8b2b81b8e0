package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"example.com/outsider/ingest"
	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
)

// slowAPI plays the ingest API: it stores rows per table, counting those
// it got twice; its second batch stops the program's write (the user
// pressing ^C) and then takes 3 s to answer, as an API under load does.
type slowAPI struct {
	mu      sync.Mutex
	stored  int
	twice   int
	seen    map[string]bool
	batches int
	stop    func()
}

func (s *slowAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rows []json.RawMessage
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &rows); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.batches++
	if s.batches == 2 && s.stop != nil {
		s.stop()
		s.mu.Unlock()
		time.Sleep(3 * time.Second)
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	table := strings.TrimPrefix(r.URL.Path, "/tables/")
	for _, row := range rows {
		s.stored++
		if s.seen[table+string(row)] {
			s.twice++
		}
		s.seen[table+string(row)] = true
	}
}

func (s *slowAPI) counts() (stored, twice int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored, s.twice
}

// stopJourney writes 25,000 faker users (a state every 10,000 rows) into
// the slow ingest API through the kit destination, in process and as the
// program exe, and stops the write while the API takes 3 s over the
// second batch: the destination finishes it and echoes its state within
// the 5 s the kit gives it, so the write confirms 20,000 rows and the next
// one sends only the 5,000 after them, none stored twice.
func stopJourney(ctx context.Context, exe string) error {
	c, err := goairbyte.NewLocalCache(ctx, "ingest", "")
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := fakerUsers(ctx, c, 25000)
	if err != nil {
		return err
	}
	for i, way := range []connector.Option{connector.WithGoConnector(ingest.Destination{}), connector.WithLocalExecutable(exe)} {
		api := &slowAPI{seen: map[string]bool{}}
		srv := httptest.NewServer(api)
		dst, err := goairbyte.GetDestination(ctx, "destination-ingest", way, connector.WithLogger(logger),
			connector.WithConfig(map[string]any{"url": srv.URL}))
		if err != nil {
			srv.Close()
			return err
		}
		key := destination.StateKey(fmt.Sprint("ingest-", i))
		wctx, stop := context.WithCancel(ctx)
		api.mu.Lock()
		api.stop = stop
		api.mu.Unlock()
		w1, err := dst.Write(wctx, res, destination.Strategy(cache.StrategyAppend), key)
		stop()
		want(errors.Is(seen(err), context.Canceled), "the stopped write: %v, want context.Canceled", err)
		want(err == nil || !strings.Contains(err.Error(), "killed"), "the destination was killed within the 5 s the kit gives it: %v", err)
		if w1 == nil {
			srv.Close()
			return err
		}
		storedBefore, _ := api.counts()
		w2, err := dst.Write(ctx, res, destination.Strategy(cache.StrategyAppend), key)
		if seen(err) != nil {
			srv.Close()
			return err
		}
		stored, twice := api.counts()
		srv.Close()
		fmt.Printf("%s: stopped write confirmed %v with %d stored, next write sent %v, %d stored, %d twice\n",
			dst, w1.RecordsConfirmed, storedBefore, w2.RecordsSent, stored, twice)
	}
	return nil
}
