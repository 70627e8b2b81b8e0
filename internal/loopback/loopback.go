// Package loopback explains a failure that a connector run in a Docker
// container meets when its config names this machine's localhost: there,
// localhost is the container itself, and nothing answers.
package loopback

import (
	"bytes"
	"strings"
)

// Hint returns what to do about reason, the words a connector failed with,
// when it ran in a Docker container without the host's network and its
// config (JSON) names a loopback address, and reason speaks of a connection
// that failed; "" otherwise.
func Hint(config []byte, reason string) string {
	if !bytes.Contains(config, []byte("localhost")) && !bytes.Contains(config, []byte("127.0.0.1")) && !bytes.Contains(config, []byte("::1")) {
		return ""
	}
	r := strings.ToLower(reason)
	if !strings.Contains(r, "refused") && !strings.Contains(r, "connect") && !strings.Contains(r, "unreachable") {
		return ""
	}
	return Advice
}

// Advice is the hint Hint gives, for goab to name its flag instead of the
// Go option.
const Advice = "the connector runs in a Docker container, where localhost is the container itself: to reach a service " +
	"on this machine's localhost, run it on the host's network (connector.WithHostNetwork)"
