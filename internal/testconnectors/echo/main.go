// Command echo is a test connector for volume: its read emits config
// "count" records padded to about "size" bytes of data, with a state every
// 10,000; its write copies each stdin line to stdout, so that input and
// output flow at the same time.
package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/x/goairbyte/internal/testconnectors/kit"
)

func main() {
	a, c := kit.Common()
	switch a.Verb {
	case "read":
		pad := strings.Repeat("x", max(c.Size-30, 0))
		prefix := `{"type":"RECORD","record":{"stream":"items","emitted_at":1700000000000,"data":{"id":`
		for i := range c.Count {
			kit.Out.WriteString(prefix)
			kit.Out.WriteString(strconv.Itoa(i))
			kit.Out.WriteString(`,"pad":"`)
			kit.Out.WriteString(pad)
			kit.Out.WriteString(`"}}}` + "\n")
			if (i+1)%10000 == 0 {
				kit.State(i + 1)
			}
		}
		kit.State(c.Count)
	case "write":
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			if c.DropStates && strings.Contains(sc.Text(), `"type":"STATE"`) {
				continue
			}
			kit.Out.Write(sc.Bytes())
			kit.Out.WriteByte('\n')
		}
	}
	kit.Flush()
}
