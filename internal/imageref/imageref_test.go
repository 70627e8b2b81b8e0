package imageref

import "testing"

func TestRegistry(t *testing.T) {
	for _, tc := range []struct{ image, host, rest string }{
		{"airbyte/source-faker:6.2.0", "docker.io", "airbyte/source-faker:6.2.0"},
		{"ubuntu", "docker.io", "ubuntu"},
		{"127.0.0.1:5000/team/source-x:1.0", "127.0.0.1:5000", "team/source-x:1.0"},
		{"ghcr.io/org/img@sha256:abc", "ghcr.io", "org/img@sha256:abc"},
		{"localhost/img:1", "localhost", "img:1"},
	} {
		if host, rest := Registry(tc.image); host != tc.host || rest != tc.rest {
			t.Errorf("Registry(%q) = %q, %q; want %q, %q", tc.image, host, rest, tc.host, tc.rest)
		}
	}
}
