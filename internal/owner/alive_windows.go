package owner

import "golang.org/x/sys/windows"

// alive opens the process and asks whether it has ended. OpenProcess fails
// for a pid no process has; a process that ended but whose handle someone
// still holds (Windows' zombie) opens, and is signalled. Access denied is a
// process that runs as someone else (EPERM on Unix).
func alive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == uint32(windows.WAIT_TIMEOUT)
}
