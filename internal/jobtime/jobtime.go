// Package jobtime reads the times of Airbyte's jobs (startTime,
// lastUpdatedAt), which the API client and the watcher both need.
package jobtime

import "time"

// layouts are the forms of Airbyte's job times: RFC 3339, and what Java's
// OffsetDateTime.toString prints, which leaves out the seconds when they
// are zero (one job in sixty, at whole-second precision).
var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"}

// Parse reads a job time; false when it is empty or in no known form.
func Parse(s string) (time.Time, bool) {
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
