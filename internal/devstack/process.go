package devstack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is one supervised child: its output goes to a log file under
// logs/, and an exit nobody asked for is reported with the log's tail.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	// stopSignal is what asks the process to stop (PostgreSQL wants SIGINT
	// for a fast shutdown; the Ory servers take SIGTERM).
	stopSignal syscall.Signal
	stopping   atomic.Bool
}

// Spawn starts a child. onCrash runs if it exits before Stop is called.
func Spawn(name, logPath string, cmd *exec.Cmd, onCrash func(*Process)) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "\n--- %s: starting %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Own process group: the terminal's Ctrl-C reaches only truss, which
	// then stops children in order. Pdeathsig kills them if truss dies hard.
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{}), stopSignal: syscall.SIGTERM}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
		if !p.stopping.Load() && onCrash != nil {
			onCrash(p)
		}
	}()
	return p, nil
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is the process's exit error (nil while running or on exit 0).
func (p *Process) ExitErr() error { return p.err }

// Stop asks the process to exit, and kills it after timeout.
func (p *Process) Stop(timeout time.Duration) error {
	p.stopping.Store(true)
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(p.stopSignal)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.Name, timeout)
	}
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string { return tailFile(p.LogPath, n) }

func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 256<<10 {
		_, _ = f.Seek(-256<<10, io.SeekEnd)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// run executes a one-shot command (a migration, initdb), logging to logPath;
// on failure the error carries the log's tail.
func run(name, logPath string, cmd *exec.Cmd) error {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "\n--- %s: running %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	err = cmd.Run()
	logf.Close()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s failed (%v); last lines of %s:\n%s", name, err, logPath, indent(tailFile(logPath, 15)))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
