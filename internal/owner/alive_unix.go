//go:build !windows

package owner

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// alive asks the kernel with the null signal (EPERM: it runs, as another
// user) and, where there is /proc, rules out a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc here: trust kill
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
