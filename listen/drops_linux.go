package listen

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockDrops reads the socket's sk_drops with getsockopt(SO_MEMINFO), Linux
// 4.12 and later; false when the kernel does not give SK_MEMINFO_DROPS.
func sockDrops(rc syscall.RawConn) (uint64, bool) {
	mem, ok := memInfo(rc)
	return uint64(mem[unix.SK_MEMINFO_DROPS]), ok
}

// memInfo is the socket's getsockopt(SO_MEMINFO): among others the size of
// its receive queue (SK_MEMINFO_RMEM_ALLOC), its receive buffer
// (SK_MEMINFO_RCVBUF) and its drops (SK_MEMINFO_DROPS, Linux 4.12); false
// when the kernel gives less.
func memInfo(rc syscall.RawConn) ([unix.SK_MEMINFO_VARS]uint32, bool) {
	var (
		mem   [unix.SK_MEMINFO_VARS]uint32
		size  = uint32(unsafe.Sizeof(mem))
		errno syscall.Errno
	)
	if rc == nil {
		return mem, false
	}
	if err := rc.Control(func(fd uintptr) {
		// a non-blocking call: no need to tell the scheduler
		_, _, errno = syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, unix.SO_MEMINFO,
			uintptr(unsafe.Pointer(&mem)), uintptr(unsafe.Pointer(&size)), 0)
	}); err != nil || errno != 0 || size < (unix.SK_MEMINFO_DROPS+1)*4 {
		return mem, false
	}
	return mem, true
}

// socketInode is the inode of the socket behind rc, the key of its line in
// /proc/net/udp.
func socketInode(rc syscall.RawConn) (uint64, error) {
	var st syscall.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil {
		return 0, err
	}
	return st.Ino, serr
}

// procUDPDrops finds the socket with this inode in /proc/self/net/udp and
// udp6 and returns its drops column (the last one).
func procUDPDrops(inode uint64) (uint64, bool) {
	for _, name := range []string{"/proc/self/net/udp", "/proc/self/net/udp6"} {
		if n, ok := procFileDrops(name, inode); ok {
			return n, true
		}
	}
	return 0, false
}

func procFileDrops(name string, inode uint64) (uint64, bool) {
	f, err := os.Open(name)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return parseProcUDP(bufio.NewScanner(f), inode)
}

// parseProcUDP scans /proc/net/udp lines: "sl local rem st tx:rx tr:when
// retrnsmt uid timeout inode ref pointer drops".
func parseProcUDP(s *bufio.Scanner, inode uint64) (uint64, bool) {
	want := []byte(strconv.FormatUint(inode, 10))
	for s.Scan() {
		f := bytes.Fields(s.Bytes())
		if len(f) < 13 || !bytes.Equal(f[9], want) {
			continue
		}
		n, err := strconv.ParseUint(string(f[len(f)-1]), 10, 64)
		return n, err == nil
	}
	return 0, false
}
