package destination_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/protocol"
)

// appendOnly is a destination whose spec says it can only append.
type appendOnly struct{ capture }

func (a *appendOnly) Spec(ctx context.Context) (*protocol.ConnectorSpecification, error) {
	spec, err := a.capture.Spec(ctx)
	spec.SupportedDestinationSyncModes = []protocol.DestinationSyncMode{protocol.DestinationAppend}
	return spec, err
}

// TestStrategyTheDestinationLacks: a strategy asked for whose sync mode the
// destination's spec does not list is refused before anything is read or
// sent, because merge into an append-only destination (which takes
// append_dedup for append, as it knows no better) stored every record
// again, silently. A strategy the destination supports goes through.
func TestStrategyTheDestinationLacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := &appendOnly{}
	dst, err := destination.New(ctx, "destination-append-only", connector.WithGoConnector(d), connector.WithConfig(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []cache.Strategy{cache.StrategyMerge, cache.StrategyReplace} {
		res, err := dst.Write(ctx, newFaker(t, 5, "users"), destination.NoCache(), destination.NoStateCache(),
			destination.Strategy(st), destination.ForceFullRefresh())
		var oe *connector.OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "append") || res != nil || len(d.got) != 0 {
			t.Fatalf("strategy %s: result %v, error %v, %d messages sent; want an OptionError naming the modes supported, before anything is sent", st, res, err, len(d.got))
		}
	}
	res, err := dst.Write(ctx, newFaker(t, 5, "users"), destination.NoCache(), destination.NoStateCache(), destination.Strategy(cache.StrategyAppend))
	if err != nil || res.RecordsConfirmed["users"] != 5 {
		t.Fatalf("append: %v, %v", res, err)
	}
}
