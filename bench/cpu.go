//go:build bench

package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuSample is the CPU time used so far by this process (client, Truss and
// any baseline server all run in it) and by every PostgreSQL process.
// Throughput alone cannot say which side a gap comes from; CPU per request
// can, and it is less noisy than wall time on a shared machine.
type cpuSample struct{ self, postgres time.Duration }

// clockTick is USER_HZ, 100 on every Linux this runs on.
const clockTick = 100

func sampleCPU() cpuSample {
	s := cpuSample{self: procCPU("/proc/self/stat")}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if comm, err := os.ReadFile(d + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			s.postgres += procCPU(d + "/stat")
		}
	}
	return s
}

// procCPU is utime+stime of one /proc/<pid>/stat (fields 14 and 15; the
// command name, field 2, may hold spaces, so count from its closing paren).
func procCPU(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / clockTick
}

func (a cpuSample) sub(b cpuSample) cpuSample {
	return cpuSample{self: a.self - b.self, postgres: a.postgres - b.postgres}
}
