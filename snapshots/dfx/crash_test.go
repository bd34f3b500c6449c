package dfx

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// TestCrashChild is the child process of TestImportSurvivesKill: it runs
// only when re-executed with the directories in the environment.
func TestCrashChild(t *testing.T) {
	store, src := os.Getenv("CANSCOPE_CRASH_STORE"), os.Getenv("CANSCOPE_CRASH_SRC")
	if store == "" {
		t.Skip("child process of TestImportSurvivesKill")
	}
	st, err := fsstore.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("CANSCOPE_CRASH_EXPORT"); out != "" {
		snap, err := st.Resolve("crash")
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.Manifest(snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := Export(context.Background(), st, m, out); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := Import(context.Background(), st, src, ImportOptions{Name: "crash"}); err != nil {
		t.Fatal(err)
	}
}

// TestExportSurvivesKill kills an exporting process at random points
// (SIGKILL after a random share of the memory bytes reached the disk):
// the target directory is then either absent or a complete export, never
// full-size files with missing pages.
func TestExportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	data := make([]uint64, 600)
	for i := range data {
		data[i] = uint64(i)
	}
	src := writeDir(t, dfxtest.Spec{HeapPages: 640, HeapData: data, StablePages: 256, StableData: []uint64{1, 200}, Chunks: 1, Seed: 12})
	store := filepath.Join(t.TempDir(), "store")
	st, err := fsstore.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(context.Background(), st, src, ImportOptions{Name: "crash"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	total := int64(len(data)+2) * dfxtest.PageSize
	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	parent := t.TempDir()
	complete, killed := 0, 0
	for trial := range 8 {
		out := filepath.Join(parent, fmt.Sprintf("out%d", trial))
		target := rng.Int64N(total)
		if trial == 7 {
			target = 1 << 62 // not killed: runs to completion
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "CANSCOPE_CRASH_STORE="+store, "CANSCOPE_CRASH_SRC="+src, "CANSCOPE_CRASH_EXPORT="+out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		exited := false
		for deadline := time.Now().Add(20 * time.Second); !exited && partialBytes(parent, "out"+fmt.Sprint(trial)) < target && time.Now().Before(deadline); {
			select {
			case <-done:
				exited = true
			case <-time.After(100 * time.Microsecond):
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		if !exited {
			<-done
		}
		if _, err := os.Stat(out); err != nil {
			killed++
			continue
		}
		complete++
		sameDir(t, src, out) // present means complete
	}
	t.Logf("%d exports killed before completion, %d complete", killed, complete)
	if killed == 0 || complete == 0 {
		t.Errorf("%d killed, %d complete: want both outcomes exercised", killed, complete)
	}
	left, _ := filepath.Glob(filepath.Join(parent, ".out*.partial-*"))
	if len(left) == 0 && killed > 0 {
		t.Error("killed exports left no partial sibling: the kill points were not mid-export")
	}
}

// partialBytes is the disk space used by files under the partial export
// siblings of base in parent.
func partialBytes(parent, base string) int64 {
	dirs, _ := filepath.Glob(filepath.Join(parent, "."+base+".partial-*"))
	var n int64
	for _, d := range dirs {
		filepath.WalkDir(d, func(_ string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				if fi, err := e.Info(); err == nil {
					n += fi.Sys().(*syscall.Stat_t).Blocks * 512
				}
			}
			return nil
		})
	}
	return n
}

// TestImportSurvivesKill kills an importing process (SIGKILL: no cleanup
// runs) at several points; every time the store must pass fsck and hold
// either no snapshot or a complete one that exports byte-identically.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	data := make([]uint64, 150)
	for i := range data {
		data[i] = uint64(i)
	}
	src := writeDir(t, dfxtest.Spec{HeapPages: 160, HeapData: data, StablePages: 64, StableData: []uint64{3, 9}, Chunks: 1, Seed: 11})
	completed, interrupted := 0, 0
	for _, killAfter := range []int{0, 1, 60, 140, -1} {
		store := filepath.Join(t.TempDir(), "store")
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "CANSCOPE_CRASH_STORE="+store, "CANSCOPE_CRASH_SRC="+src)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		exited := false
		if killAfter >= 0 {
			deadline := time.Now().Add(20 * time.Second)
			for !exited && countBlobs(store) < killAfter && time.Now().Before(deadline) {
				select {
				case <-done:
					exited = true // finished before the kill point
				case <-time.After(200 * time.Microsecond):
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
		}
		if !exited {
			<-done
		}

		st, err := fsstore.Open(store)
		if err != nil {
			t.Fatalf("kill after %d blobs: reopen: %v", killAfter, err)
		}
		rep, err := st.Check(context.Background())
		if err != nil || !rep.OK {
			t.Fatalf("kill after %d blobs: fsck = %+v, %v", killAfter, rep, err)
		}
		all, err := st.List()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("killed after %d blobs: %d blobs on disk, %d snapshots", killAfter, countBlobs(store), len(all))
		switch len(all) {
		case 0:
			interrupted++
		case 1:
			completed++
			m, err := st.Manifest(all[0].ID)
			if err != nil {
				t.Fatalf("kill after %d blobs: listed snapshot unreadable: %v", killAfter, err)
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := Export(context.Background(), st, m, out); err != nil {
				t.Fatalf("kill after %d blobs: listed snapshot incomplete: %v", killAfter, err)
			}
			sameDir(t, src, out)
		default:
			t.Fatalf("kill after %d blobs: %d snapshots", killAfter, len(all))
		}
		st.Close()
	}
	if completed == 0 || interrupted == 0 {
		t.Errorf("%d runs completed, %d interrupted: want both outcomes exercised", completed, interrupted)
	}
}

// countBlobs estimates the blobs an import has written so far: loose
// files, and the pages in its packs (written or pending) at a page each
// (the test data does not compress).
func countBlobs(store string) int {
	n := 0
	shards, _ := os.ReadDir(filepath.Join(store, "blobs"))
	for _, s := range shards {
		entries, _ := os.ReadDir(filepath.Join(store, "blobs", s.Name()))
		n += len(entries)
	}
	packs, _ := os.ReadDir(filepath.Join(store, "packs"))
	for _, p := range packs {
		if fi, err := p.Info(); err == nil {
			n += int(fi.Size() / snapshots.PageSize)
		}
	}
	return n
}
