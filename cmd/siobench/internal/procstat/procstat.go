// Package procstat reads the CPU time and resident memory of a process from
// /proc on Linux, and the load generator's own CPU time from getrusage.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClockTicks is the number of clock ticks per second used by /proc/PID/stat.
// Init sets it from `getconf CLK_TCK`; it defaults to 100, the value on
// every common Linux configuration.
var ClockTicks = 100

// Init reads the clock tick rate once. It keeps the default when getconf is
// not available.
func Init() {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
		ClockTicks = n
	}
}

// CPU returns the user plus system CPU time consumed so far by process pid.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(b, ClockTicks)
}

// ParseStatCPU extracts utime+stime from the content of /proc/PID/stat. The
// command name in the second field may contain spaces and parentheses, so the
// fields are counted from the last closing parenthesis.
func ParseStatCPU(stat []byte, ticks int) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || ticks <= 0 {
		return 0, errors.New("procstat: malformed stat")
	}
	// After ")" come field 3 (state) onwards; utime and stime are fields 14
	// and 15, so indexes 11 and 12 of the remaining fields.
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("procstat: stat has too few fields")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("procstat: malformed utime or stime")
	}
	return time.Duration(ut+st) * time.Second / time.Duration(ticks), nil
}

// RSS returns the resident set size of process pid in bytes, from VmRSS in
// /proc/PID/status.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return ParseStatusRSS(b)
}

// ParseStatusRSS extracts VmRSS, in bytes, from the content of
// /proc/PID/status.
func ParseStatusRSS(status []byte) (int64, error) {
	for _, line := range strings.Split(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("procstat: malformed VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: malformed VmRSS line %q", line)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("procstat: no VmRSS in status")
}

// SelfCPU returns the user plus system CPU time consumed so far by the
// current process.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit and returns
// the resulting soft limit.
func RaiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return lim.Cur, err
		}
	}
	return lim.Cur, nil
}
