//go:build !linux

package executor

// killMarked does nothing where there is no /proc: what a connector moved
// out of its process group keeps running.
func killMarked(string) []int { return nil }

// reapAdopted does nothing where there is no /proc.
func reapAdopted(int, []int) {}
