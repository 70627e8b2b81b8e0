package connector_test

import (
	"context"
	"strings"
	"testing"

	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/internal/core"
	"github.com/x/goairbyte/internal/ptytest"
	"github.com/x/goairbyte/progress"
)

// The progress a Read or Write draws through an Environment is in ASCII
// where the Environment was made in a locale that is not UTF-8, whose
// terminal shows '·' and '…' as mojibake; a call's own
// progress.WithASCII(false) wins. Not parallel: it sets LC_ALL and TERM.
func TestEnvironmentProgressFollowsTheLocale(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		lcAll string
		call  bool // the call gives its own options, with WithASCII(false)
		want  string
	}{
		{"C", false, "Writing destination-echo: users 1,00..."},
		{"C.UTF-8", false, "Writing destination-echo: users 1,000 …"},
		{"C", true, "Writing destination-echo: users 1,000 …"},
	} {
		t.Run(tc.lcAll, func(t *testing.T) {
			t.Setenv("LC_ALL", tc.lcAll)
			t.Setenv("TERM", "xterm") // one that redraws and shows UTF-8
			env := offline(t)
			env.RegisterConnector("destination-echo", func() any { return echoDest{} })
			term := ptytest.Open(t, 40)
			env.SetProgress(progress.WithOutput(term.TTY))
			d, err := core.New[*connector.Connector, connector.Option](ctx, core.KindDestination, "destination-echo", connector.WithEnvironment(env))
			if err != nil {
				t.Fatal(err)
			}
			var call []progress.Option
			if tc.call {
				call = []progress.Option{progress.WithOutput(term.TTY), progress.WithASCII(false)}
			}
			tr := progress.New(progress.OpWrite, d.Name(), core.ConnOf(d).ProgressOptions(call)...)
			users := tr.Stream("users")
			users.Read(1000, 1000)
			users.Written(1000)
			tr.Stream("purchases")
			// The live line is drawn at the tracker's first tick.
			out := term.Wait(t, func(out string) bool { return strings.Contains(out, "\r\x1b[KWriting") })
			tr.Finish(nil)
			live := strings.Split(out, "\r\x1b[K")[1]
			if live != tc.want {
				t.Fatalf("live line on 40 columns\n got  %q\n want %q", live, tc.want)
			}
		})
	}
}
