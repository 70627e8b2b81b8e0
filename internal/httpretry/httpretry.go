// Package httpretry is the retry arithmetic goairbyte's HTTP clients share
// (Airbyte's API, Fivetran's): which failures may be retried, how long to
// back off, and Retry-After.
package httpretry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Policy says how often and how patiently a failed request is retried.
type Policy struct {
	MaxAttempts int           // attempts in all, the first included
	BaseDelay   time.Duration // the first backoff; it doubles per attempt
	MaxDelay    time.Duration // backoff ceiling, Retry-After included
}

// Default retries five times over about half a minute.
var Default = Policy{MaxAttempts: 6, BaseDelay: 500 * time.Millisecond, MaxDelay: 15 * time.Second}

// Check reports a policy that cannot work.
func (p Policy) Check() error {
	if p.MaxAttempts < 1 || p.BaseDelay <= 0 || p.MaxDelay < p.BaseDelay {
		return fmt.Errorf("retry policy needs MaxAttempts >= 1 and 0 < BaseDelay <= MaxDelay, got %+v", p)
	}
	return nil
}

// Backoff is the wait before attempt+1: exponential with full jitter, at
// least what Retry-After asked, never above MaxDelay.
func (p Policy) Backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceil := p.BaseDelay << min(attempt-1, 20)
	if ceil > p.MaxDelay || ceil <= 0 {
		ceil = p.MaxDelay
	}
	d := time.Duration(rand.Int64N(int64(ceil)) + 1)
	if retryAfter > d {
		d = min(retryAfter, p.MaxDelay)
	}
	return d
}

// RetryAfter parses a Retry-After header: seconds or an HTTP date.
func RetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// RefusedBeforeSending reports whether a network error happened before the
// request could reach the server (a refused or failed dial), so that even
// a request that creates something may be sent again.
func RefusedBeforeSending(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
