package main

import "testing"

// A job's ISO 8601 duration prints as goab's other durations do; what is
// not days, hours, minutes and seconds prints as it came.
func TestJobDuration(t *testing.T) {
	for in, want := range map[string]string{
		"":           "-",
		"PT0S":       "0s",
		"PT1S":       "1s",
		"PT8H6M12S":  "8h6m12s",
		"PT1M30.5S":  "1m30.5s",
		"P1DT2H":     "26h0m0s",
		"PT90M":      "1h30m0s",
		"P1M":        "P1M", // a month has no fixed length
		"P2W":        "P2W",
		"PT":         "0s",
		"P":          "P",
		"PTxS":       "PTxS",
		"1h":         "1h",
		"PT1H2":      "PT1H2",
		"PT1..5S":    "PT1..5S",
		"PT5S extra": "PT5S extra",
	} {
		if got := jobDuration(in); got != want {
			t.Errorf("jobDuration(%q) = %q, want %q", in, got, want)
		}
	}
}
