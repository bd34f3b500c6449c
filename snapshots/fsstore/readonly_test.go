package fsstore

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// nobody is the unprivileged uid the read-only test drops to when the
// tests run as root (root ignores permission bits).
const nobody = 65534

// TestReadOnlyChild is the unprivileged half of TestReadOnlyStore.
func TestReadOnlyChild(t *testing.T) {
	dir := os.Getenv("CANSCOPE_RO_STORE")
	if dir == "" {
		t.Skip("child process of TestReadOnlyStore")
	}
	checkReadOnly(t, dir)
}

// checkReadOnly: a store on a read-only path opens and lists, and every
// write fails with an error that says the store is read-only.
func checkReadOnly(t *testing.T, dir string) {
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("a read-only store must open for reading: %v", err)
	}
	defer s.Close()
	if all, err := s.List(); err != nil || len(all) != 1 {
		t.Errorf("List on a read-only store = %d snapshots, %v", len(all), err)
	}
	if _, err := s.PutPage(page(9)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("PutPage on a read-only store: %v", err)
	}
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "x", MadeBy: snapshots.MadeByImport}}
	if _, err := s.Commit(context.Background(), m); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Commit on a read-only store: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "sub")); err == nil {
		t.Error("creating a store under a read-only directory succeeded")
	}
}

func TestReadOnlyStore(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	commitPages(t, s, "prod", nil, page(1))
	s.Close()
	before := treeOf(t, dir)
	if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o444)
		if d.IsDir() {
			mode = 0o555
		}
		return os.Chmod(p, mode)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, _ error) error { return os.Chmod(p, 0o755) })
	})
	if os.Geteuid() != 0 {
		checkReadOnly(t, dir)
	} else {
		// Root writes anywhere: re-run the check as nobody from a copy of
		// the test binary nobody can execute.
		os.Chmod(filepath.Dir(base), 0o755) // t.TempDir makes both 0700
		os.Chmod(base, 0o755)
		bin := filepath.Join(base, "fsstore.test")
		if err := copyFile(os.Args[0], bin); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestReadOnlyChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CANSCOPE_RO_STORE="+dir)
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestReadOnlyChild") {
			t.Fatalf("read-only check as nobody: %v\n%s", err, out)
		}
	}
	if after := treeOf(t, dir); after != before {
		t.Errorf("refused writes changed the store:\n%s\nwas\n%s", after, before)
	}
}

func treeOf(t *testing.T, dir string) string {
	var lines []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			lines = append(lines, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return strings.Join(lines, "\n")
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
