package devstack

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Ports is every port the development stack listens on (all on 127.0.0.1,
// except Truss itself, which binds API_HOST).
type Ports struct {
	Postgres     int
	KratosPublic int
	KratosAdmin  int
	KetoRead     int
	KetoWrite    int
	KetoMetrics  int
	KetoOPL      int
	HydraPublic  int
	HydraAdmin   int
	SMTP         int
	MailUI       int
	API          int
}

// DefaultPorts are the ports self-hosters know from the Ory docs. PostgreSQL
// gets 15432, not 5432 (a system PostgreSQL keeps its port) and below the
// kernel's ephemeral range (32768+), where a client socket could hold it.
func DefaultPorts() Ports {
	return Ports{Postgres: 15432, KratosPublic: 4433, KratosAdmin: 4434, KetoRead: 4466, KetoWrite: 4467,
		KetoMetrics: 4468, KetoOPL: 4469, HydraPublic: 4444, HydraAdmin: 4445, SMTP: 1025, MailUI: 8025, API: 8787}
}

// named lists the ports with what they are for, for error messages.
func (p Ports) named() []struct {
	Port int
	What string
} {
	return []struct {
		Port int
		What string
	}{
		{p.Postgres, "PostgreSQL"}, {p.KratosPublic, "Kratos public API"}, {p.KratosAdmin, "Kratos admin API"},
		{p.KetoRead, "Keto read API"}, {p.KetoWrite, "Keto write API"}, {p.KetoMetrics, "Keto metrics"},
		{p.KetoOPL, "Keto OPL API"}, {p.HydraPublic, "Hydra public API"}, {p.HydraAdmin, "Hydra admin API"},
		{p.SMTP, "Mailpit SMTP"}, {p.MailUI, "Mailpit web UI"}, {p.API, "Truss API"},
	}
}

// FreePorts asks the kernel for unused ports, so two test runs on one
// machine never collide.
func FreePorts() (Ports, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	next := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0
		}
		ls = append(ls, l)
		return l.Addr().(*net.TCPAddr).Port
	}
	p := Ports{Postgres: next(), KratosPublic: next(), KratosAdmin: next(), KetoRead: next(), KetoWrite: next(),
		KetoMetrics: next(), KetoOPL: next(), HydraPublic: next(), HydraAdmin: next(), SMTP: next(), MailUI: next(), API: next()}
	for _, n := range p.named() {
		if n.Port == 0 {
			return p, fmt.Errorf("no free port available for %s", n.What)
		}
	}
	return p, nil
}

// CheckFree fails with one message naming every port already taken and, when
// the kernel tells, the process holding it.
func (p Ports) CheckFree(skipAPI bool) error {
	var taken []string
	for _, n := range p.named() {
		if skipAPI && n.What == "Truss API" {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(n.Port))
		if err != nil {
			taken = append(taken, fmt.Sprintf("  port %d (%s) is already in use%s", n.Port, n.What, PortOwner(n.Port)))
			continue
		}
		l.Close()
	}
	if len(taken) == 0 {
		return nil
	}
	return fmt.Errorf("cannot start the development stack:\n%s\nStop what holds those ports (another `truss dev`? a system service?) and run again",
		strings.Join(taken, "\n"))
}

// PortOwner finds the process listening on a TCP port through /proc (Linux
// only; elsewhere it returns ""), as " by NAME (pid N)".
func PortOwner(port int) string {
	inodes := listeningInodes(port)
	if len(inodes) == 0 {
		return ""
	}
	pids, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range pids {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pid := strings.Split(fd, "/")[2]
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			return fmt.Sprintf(" by %s (pid %s)", strings.TrimSpace(string(comm)), pid)
		}
	}
	return " by a process this user cannot see"
}

func listeningInodes(port int) map[string]bool {
	want := fmt.Sprintf(":%04X", port)
	out := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			// fields: sl local_address rem_address st ... inode at index 9; 0A = LISTEN
			if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				out[fields[9]] = true
			}
		}
	}
	return out
}
