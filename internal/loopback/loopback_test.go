package loopback

import "testing"

func TestHint(t *testing.T) {
	for _, c := range []struct {
		config, reason string
		hint           bool
	}{
		{`{"url":"http://127.0.0.1:8080"}`, `dial tcp 127.0.0.1:8080: connect: connection refused`, true},
		{`{"host":"localhost","port":5432}`, `could not connect to server: Connection refused`, true},
		{`{"host":"::1"}`, `network is unreachable`, true},
		{`{"host":"db.example.com"}`, `connect: connection refused`, false},
		{`{"host":"localhost"}`, `invalid api key`, false},
	} {
		if got := Hint([]byte(c.config), c.reason); (got != "") != c.hint {
			t.Errorf("Hint(%s, %q) = %q, want a hint: %v", c.config, c.reason, got, c.hint)
		}
	}
}
