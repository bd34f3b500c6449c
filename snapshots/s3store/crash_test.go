package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
)

// TestImportChild is the child process of the kill and concurrency
// tests: it imports CANSCOPE_S3_CHILD_SRC into the store
// CANSCOPE_S3_CHILD_STORE under the name "prod", and runs only when
// re-executed with them set.
func TestImportChild(t *testing.T) {
	loc, src := os.Getenv("CANSCOPE_S3_CHILD_STORE"), os.Getenv("CANSCOPE_S3_CHILD_SRC")
	if loc == "" {
		t.Skip("child process of TestImportSurvivesKill and TestConcurrentImports")
	}
	st := openTest(t, loc, "-")
	if _, err := dfx.Import(context.Background(), st, src, dfx.ImportOptions{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func startImport(t *testing.T, loc, src string) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportChild$")
	cmd.Env = append(os.Environ(), "CANSCOPE_S3_CHILD_STORE="+loc, "CANSCOPE_S3_CHILD_SRC="+src)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		if err != nil && !strings.Contains(err.Error(), "killed") {
			t.Logf("import child: %v\n%s", err, out.String())
		}
		done <- err
	}()
	return cmd, done
}

func writeSnap(t *testing.T, spec dfxtest.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "snap")
	if err := dfxtest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestImportSurvivesKill kills an importing process (SIGKILL: no cleanup
// runs) at points spread over a whole import into the S3 server; every
// time the store must pass fsck and list either no snapshot or a complete
// one that exports byte-identically.
func TestImportSurvivesKill(t *testing.T) {
	testEnv(t)
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	data := make([]uint64, 300)
	for i := range data {
		data[i] = uint64(i)
	}
	src := writeSnap(t, dfxtest.Spec{HeapPages: 320, HeapData: data, StablePages: 64, StableData: []uint64{3, 9}, Chunks: 1, Seed: 11})

	// A full run first: how long an import takes, to spread the kills.
	t0 := time.Now()
	loc := testURL(t)
	if _, done := startImport(t, loc, src); <-done != nil {
		t.Fatal("the uninterrupted import failed")
	}
	full := time.Since(t0)
	checkImported(t, loc, src, -1)

	completed, interrupted := 0, 0
	for _, frac := range []float64{0.05, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 1.0} {
		loc := testURL(t)
		cmd, done := startImport(t, loc, src)
		select {
		case <-done:
		case <-time.After(time.Duration(frac * float64(full))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		switch checkImported(t, loc, src, frac) {
		case 0:
			interrupted++
		case 1:
			completed++
		}
	}
	t.Logf("full import %v; %d kills left no snapshot, %d a complete one", full, interrupted, completed)
	if interrupted == 0 {
		t.Errorf("no kill interrupted an import: the test exercised nothing")
	}
}

// checkImported checks the store after an import that may have been
// killed and returns how many snapshots it lists (0 or 1).
func checkImported(t *testing.T, loc, src string, frac float64) int {
	what := fmt.Sprintf("killed at %.0f%%", 100*frac)
	if frac < 0 {
		what = "not killed"
	}
	t.Helper()
	st := openTest(t, loc, "")
	rep, err := st.Check(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("%s: fsck = %+v, %v", what, rep, err)
	}
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) > 1 {
		t.Fatalf("%s: %d snapshots", what, len(all))
	}
	if len(all) == 1 {
		m, err := st.Manifest(all[0].ID)
		if err != nil {
			t.Fatalf("%s: listed snapshot unreadable: %v", what, err)
		}
		out := filepath.Join(t.TempDir(), "out")
		if err := dfx.Export(context.Background(), st, m, out); err != nil {
			t.Fatalf("%s: listed snapshot incomplete: %v", what, err)
		}
		sameFiles(t, src, out)
	}
	t.Logf("%s: %d snapshots, %d blobs, %d unclaimed manifests", what, len(all), rep.BlobsChecked, rep.UnclaimedManifests)
	return len(all)
}

// sameFiles checks that every file under a has an identical twin in b.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, strings.TrimPrefix(p, a)))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs after the round trip (%v)", strings.TrimPrefix(p, a), err)
		}
		return nil
	})
}

// TestConcurrentImports runs two importing processes under one name at
// once against the S3 server: both land, as prod@1 and prod@2, and fsck
// is clean.
func TestConcurrentImports(t *testing.T) {
	testEnv(t)
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	loc := testURL(t)
	a := writeSnap(t, dfxtest.Spec{HeapPages: 40, HeapData: []uint64{0, 5, 9}, Seed: 1})
	b := writeSnap(t, dfxtest.Spec{HeapPages: 40, HeapData: []uint64{0, 5, 9}, Seed: 2})
	for round := range 3 {
		_, da := startImport(t, loc, a)
		_, db := startImport(t, loc, b)
		if ea, eb := <-da, <-db; ea != nil || eb != nil {
			t.Fatalf("round %d: imports failed: %v, %v", round, ea, eb)
		}
	}
	st := openTest(t, loc, "")
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, s := range all {
		seen[s.Seq] = true
	}
	if len(all) != 6 || len(seen) != 6 {
		t.Fatalf("6 imports under one name left %d snapshots with %d distinct seqs", len(all), len(seen))
	}
	for n := 1; n <= 6; n++ {
		if !seen[n] {
			t.Errorf("prod@%d missing", n)
		}
	}
	if rep, err := st.Check(context.Background()); err != nil || !rep.OK {
		t.Errorf("fsck: %+v, %v", rep, err)
	}
}
