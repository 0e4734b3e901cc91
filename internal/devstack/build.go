package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tool is a server the stack builds from the Go module proxy with a tool
// module under tools/<Name> (see tools/README.md for why one module each).
type Tool struct {
	Name       string
	Version    string
	Package    string
	VersionVar string // -X target so the binary reports its real version
	Tags       string
}

// Tools are the pinned servers of the stack.
var Tools = []Tool{
	{"kratos", "v1.3.1", "github.com/ory/kratos", "github.com/ory/kratos/driver/config.Version", "sqlite"},
	{"keto", "v0.13.0-alpha.0", "github.com/ory/keto", "github.com/ory/keto/internal/driver/config.Version", "sqlite"},
	{"hydra", "v2.3.0", "github.com/ory/hydra/v2", "github.com/ory/hydra/v2/driver/config.Version", "sqlite"},
	{"mailpit", "v1.33.1", "github.com/axllent/mailpit", "github.com/axllent/mailpit/config.Version", ""},
}

func (t Tool) buildArgs(out string) []string {
	args := []string{"build"}
	if t.Tags != "" {
		args = append(args, "-tags", t.Tags)
	}
	return append(args, "-ldflags", "-X "+t.VersionVar+"="+t.Version, "-o", out, t.Package)
}

// stamp identifies a build: it changes when the tool module (hence a
// version) or the build flags change, and only then is the tool rebuilt.
func (t Tool) stamp(toolsDir string) (string, error) {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(toolsDir, t.Name, f))
		if err != nil {
			return "", fmt.Errorf("tool module for %s: %w (is ToolsDir %s a Truss checkout's tools/?)", t.Name, err, toolsDir)
		}
		h.Write(b)
	}
	h.Write([]byte(strings.Join(t.buildArgs(""), " ")))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ensureBuilt builds every tool whose binary is missing or stale.
func (s *Stack) ensureBuilt(ctx context.Context) error {
	if err := os.MkdirAll(s.opts.BinDir, 0o755); err != nil {
		return err
	}
	for _, t := range Tools {
		stamp, err := t.stamp(s.opts.ToolsDir)
		if err != nil {
			return err
		}
		bin := filepath.Join(s.opts.BinDir, t.Name)
		stampFile := bin + ".stamp"
		if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp {
			if _, err := os.Stat(bin); err == nil {
				continue
			}
		}
		if err := s.build(ctx, t, bin); err != nil {
			return err
		}
		if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) build(ctx context.Context, t Tool, bin string) error {
	s.step("building %s %s from the Go module proxy (a first, cold build takes 1-3 minutes per server; later runs reuse it)", t.Name, t.Version)
	tmp := bin + ".tmp"
	cmd := exec.CommandContext(ctx, "go", t.buildArgs(tmp)...)
	cmd.Dir = filepath.Join(s.opts.ToolsDir, t.Name)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
	start := time.Now()
	stop := s.ticker(fmt.Sprintf("still building %s", t.Name), start)
	err := run("build "+t.Name, s.logPath("build"), cmd)
	stop()
	if err != nil {
		return err
	}
	s.info("built %s in %s", t.Name, time.Since(start).Round(time.Second))
	// Rename is atomic: a concurrent stack never runs a half-written binary.
	return os.Rename(tmp, bin)
}

// ticker prints a heartbeat every 20 s so a long build never looks hung.
func (s *Stack) ticker(msg string, start time.Time) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.info("%s (%s so far)", msg, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done) }
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
