package dockerauth

import "testing"

// The Docker CLI's auths keys: a host, or (older CLIs, Docker Hub) a URL.
func TestNormalise(t *testing.T) {
	for key, want := range map[string]string{
		"registry.acme.example:5000":        "registry.acme.example:5000",
		"https://registry.acme.example/v2/": "registry.acme.example",
		"http://127.0.0.1:5000":             "127.0.0.1:5000",
		"https://index.docker.io/v1/":       "docker.io",
		"https://registry-1.docker.io/v2/":  "docker.io",
	} {
		if got := normalise(key); got != want {
			t.Errorf("normalise(%q) = %q, want %q", key, got, want)
		}
	}
}
