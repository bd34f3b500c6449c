package dfx

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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
	if _, err := Import(context.Background(), st, src, ImportOptions{Name: "crash"}); err != nil {
		t.Fatal(err)
	}
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

func countBlobs(store string) int {
	n := 0
	shards, _ := os.ReadDir(filepath.Join(store, "blobs"))
	for _, s := range shards {
		entries, _ := os.ReadDir(filepath.Join(store, "blobs", s.Name()))
		n += len(entries)
	}
	return n
}
