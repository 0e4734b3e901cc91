package keto

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trussdev/truss/internal/keto/opl"
)

// namespacesFile is the OPL file Keto watches (KETO_NAMESPACES_FILE). It
// holds Truss's defaults and one section per tenant with a custom model.
// Several Truss instances (or test servers with different databases) may
// share it, so each write merges: it changes one tenant's section under a
// file lock and keeps the others.
type namespacesFile struct {
	path string
	svc  *Service
	mu   sync.Mutex
}

func (f *namespacesFile) read() (opl.File, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return opl.File{Sections: map[string]opl.Section{}}, nil
	}
	if err != nil {
		return opl.File{}, err
	}
	return opl.ParseFile(string(b)), nil
}

// holds reports whether the file already has model m's version of the
// tenant's section (no section for the default model).
func (f *namespacesFile) holds(tenant string, m *Model) (bool, error) {
	cur, err := f.read()
	if err != nil {
		return false, err
	}
	sec, has := cur.Sections[tenant]
	return (m.OPL == "" && !has) || (m.OPL != "" && has && sec.Version == m.Version), nil
}

// update sets tenant's section to model m (removes it for the default
// model), checks the whole file with Keto, replaces the file atomically and
// returns its new revision.
func (f *namespacesFile) update(ctx context.Context, tenant string, m *Model) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	unlock, err := lockFile(f.path + ".lock")
	if err != nil {
		return 0, fmt.Errorf("lock %s.lock: %w", f.path, err)
	}
	defer unlock()
	cur, err := f.read()
	if err != nil {
		return 0, err
	}
	if m.OPL == "" {
		delete(cur.Sections, tenant)
	} else {
		cur.Sections[tenant] = opl.Section{Version: m.Version, Body: opl.TenantSection(m.doc, tenant)}
	}
	cur.Revision = max(cur.Revision+1, time.Now().UnixNano())
	content := cur.Render()
	errs, err := f.svc.checkSyntax(ctx, content)
	if err != nil {
		return 0, err
	}
	if len(errs) > 0 {
		return 0, fmt.Errorf("the composed namespaces file %s would not pass Keto's check (%v); it was left unchanged", f.path, errs[0])
	}
	return cur.Revision, writeAtomic(f.path, []byte(content))
}

// writeAtomic replaces path by renaming a complete temporary file over it,
// so Keto never reads half a file. The mode of the old file is kept.
func writeAtomic(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// loadedRevision is the file revision Keto has loaded (0 if it shows none).
func (s *Service) loadedRevision(ctx context.Context) (int64, error) {
	res, resp, err := s.read.API.RelationshipAPI.ListRelationshipNamespaces(ctx).Execute()
	if e := s.read.Check(err, resp); e != nil {
		return 0, e
	}
	if err != nil {
		return 0, err
	}
	var rev int64
	for _, ns := range res.Namespaces {
		if n, ok := opl.ParseRevisionName(ns.GetName()); ok {
			rev = max(rev, n)
		}
	}
	return rev, nil
}

// waitLoaded polls Keto until it has loaded revision rev or a later one,
// for at most s.loadTimeout. Keto reloads the file a few milliseconds to a
// second after it changes.
func (s *Service) waitLoaded(ctx context.Context, rev int64) (bool, error) {
	deadline := time.Now().Add(s.loadTimeout)
	for {
		got, err := s.loadedRevision(ctx)
		if err != nil {
			return false, err
		}
		if got >= rev {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}
