// Package dockerauth finds the credentials the Docker command line keeps
// for a registry (docker login), so that goairbyte's pulls through the
// engine's API use them as docker pull does: the engine itself reads no
// credentials, the client sends them with each pull.
//
// It reads the Docker CLI's config file ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json): the registry's credential helper (credHelpers),
// else the default one (credsStore), run as docker-credential-<name> get;
// else the registry's entry in auths, as docker login writes it without a
// helper.
package dockerauth

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/types/registry"
)

// hubKey is the key under which the Docker CLI keeps Docker Hub's
// credentials.
const hubKey = "https://index.docker.io/v1/"

// helperTimeout bounds a credential helper, which may wait on a keychain.
const helperTimeout = 30 * time.Second

// configFile is the Docker CLI's config file, as the CLI finds it.
func configFile() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// cliConfig is the part of the CLI's config file that holds credentials.
type cliConfig struct {
	Auths       map[string]authEntry `json:"auths"`
	CredsStore  string               `json:"credsStore"`
	CredHelpers map[string]string    `json:"credHelpers"`
}

type authEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// Header returns the X-Registry-Auth value for a pull from host (a
// registry's host[:port], "docker.io" for Docker Hub) with the credentials
// the Docker CLI keeps for it; "" when it keeps none. The error says what
// could not be read (the config file, a helper); the pull may go on
// without credentials.
func Header(ctx context.Context, host string) (string, error) {
	path := configFile()
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var cfg cliConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", fmt.Errorf("reading the Docker CLI's config %s: %w", path, err)
	}
	key := host
	if host == "docker.io" {
		key = hubKey
	}
	if helper := cmp.Or(cfg.CredHelpers[host], cfg.CredsStore); helper != "" {
		ac, found, err := fromHelper(ctx, helper, key)
		if err != nil {
			return "", err
		}
		if found {
			return encode(ac)
		}
	}
	for k, e := range cfg.Auths {
		if k != key && normalise(k) != host {
			continue
		}
		ac := registry.AuthConfig{Username: e.Username, Password: e.Password, ServerAddress: key,
			IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				return "", fmt.Errorf("reading the Docker CLI's config %s: the auth of %s is not base64", path, k)
			}
			ac.Username, ac.Password, _ = strings.Cut(string(raw), ":")
		}
		return encode(ac)
	}
	return "", nil
}

// normalise turns an auths key of older CLIs ("https://host/v1/") into a
// host.
func normalise(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	host, _, _ := strings.Cut(key, "/")
	if host == "index.docker.io" || host == "registry-1.docker.io" {
		return "docker.io"
	}
	return host
}

// fromHelper asks the credential helper docker-credential-<helper> for
// the credentials of server; found is false when it has none.
func fromHelper(ctx context.Context, helper, server string) (ac registry.AuthConfig, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, helperTimeout)
	defer cancel()
	name := "docker-credential-" + helper
	cmd := exec.CommandContext(ctx, name, "get")
	cmd.Stdin = strings.NewReader(server)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		out := strings.TrimSpace(stdout.String() + " " + stderr.String())
		if strings.Contains(out, "credentials not found") {
			return ac, false, nil
		}
		return ac, false, fmt.Errorf("the Docker CLI's credential helper %s failed for %s: %v %s", name, server, err, out)
	}
	var got struct{ Username, Secret string }
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		return ac, false, fmt.Errorf("the Docker CLI's credential helper %s answered for %s with no credentials it could read: %w", name, server, err)
	}
	ac.ServerAddress = server
	if got.Username == "<token>" {
		ac.IdentityToken = got.Secret
	} else {
		ac.Username, ac.Password = got.Username, got.Secret
	}
	return ac, true, nil
}

func encode(ac registry.AuthConfig) (string, error) {
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}
