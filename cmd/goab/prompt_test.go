package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/x/goairbyte/internal/ptytest"
)

// A secret only the user can give is asked for once per goab command, on
// its terminal: once in a sync whose source and destination configs both
// name it, once in a validate that checks, discovers and reads.
func TestSecretPromptedOncePerCommand(t *testing.T) {
	const answer = "typed-at-the-goab-prompt"
	ref := `"secret_reference::GOAB_PROMPTED_KEY"`
	for name, args := range map[string][]string{
		"sync": {"sync", "source-faker", "--local-executable", faker(t), "--config", `{"count": 5, "api_key": ` + ref + `}`,
			"--destination", "destination-local-json", "--destination-local-executable", localJSON(t),
			"--destination-config", `{"destination_path": "` + t.TempDir() + `", "api_key": ` + ref + `}`},
		"validate": {"validate", "source-faker", "--local-executable", faker(t), "--config", `{"count": 5, "api_key": ` + ref + `}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			term := ptytest.Open(t, 200)
			term.Type(t, strings.Repeat(answer+"\n", 8)) // an answer for every prompt there may be
			cmd := exec.Command(goabBin, args...)
			cmd.Dir = t.TempDir()
			env := []string{"AIRBYTE_OFFLINE_MODE=1", "NO_LIVE_PROGRESS=1", "GOAIRBYTE_LOG_DIR=" + t.TempDir()}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, "GOAB_PROMPTED_KEY=") {
					env = append(env, kv)
				}
			}
			cmd.Env = env
			var stdout bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = term.TTY, &stdout, term.TTY
			runErr := cmd.Run()
			term.TTY.Close()
			text := term.Wait(t, func(string) bool { return false }) // all of it: until the terminal closes
			if runErr != nil {
				t.Fatalf("goab %s: %v\n%s\n%q", name, runErr, stdout.String(), text)
			}
			if n := strings.Count(text, "Enter secret GOAB_PROMPTED_KEY"); n != 1 {
				t.Errorf("goab %s showed the prompt %d times, want once:\n%q", name, n, text)
			}
		})
	}
}
