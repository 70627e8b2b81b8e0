package progress_test

import (
	"fmt"

	"github.com/x/goairbyte/progress"
	"github.com/x/goairbyte/protocol"
)

// A Go program subscribes to the progress of an operation with a listener; a
// pipeline reports through stream handles. WithRenderer(nil) keeps the
// default renderer quiet, for a program that draws its own progress.
func Example() {
	tr := progress.New(progress.OpRead, "source-faker",
		progress.WithRenderer(nil),
		progress.WithListener(func(s progress.Snapshot) {
			if s.Done {
				for _, st := range s.Streams {
					fmt.Printf("%s: %d records, %d bytes, %d states, %s\n",
						st.Name, st.RecordsRead, st.BytesRead, st.StatesCommitted, st.Status)
				}
			}
		}))

	// What the read pipeline does as the connector's messages arrive.
	users := tr.Stream("users")
	users.SetStatus(protocol.StatusStarted)
	for range 1000 {
		users.Read(1, 280)
	}
	users.Written(1000)
	users.StateCommitted()
	users.SetStatus(protocol.StatusComplete)

	final := tr.Finish(nil)
	fmt.Println("total:", final.Total.RecordsRead)
	// Output:
	// users: 1000 records, 280000 bytes, 1 states, COMPLETE
	// total: 1000
}
