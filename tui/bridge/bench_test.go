package bridge

import (
	"context"
	"encoding/binary"
	"syscall"
	"testing"
	"time"

	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/source"
)

// BenchmarkRunScreenVsCLI runs the same upgrade the way `canscope
// upgrade` does (a workbench rehearsal) and the way the run screen does
// (this runner: record the run, then the first jump, to the trap or the
// start), through engine.New with the real configuration. incident is
// call-heavy (4 MiB of data checksummed one call per 8-byte word: about a
// million events); longrun is loop-heavy (1.2 G instructions, one call
// per 64 KiB page); motoko is small.
func BenchmarkRunScreenVsCLI(b *testing.B) {
	ctx := context.Background()
	f := newRunFixture(b)
	st, bench := f.st, f.bench
	var adds []update
	for range 200 {
		adds = append(adds, update{"add", []byte("DIDL\x00\x02\x7d\x71\x05\x02hi")})
	}
	for _, w := range []struct {
		name string
		id   snapshots.ID
	}{
		{"incident", f.snapshot(b, "../../engine/testdata/incident.wasm", "prod", update{"add_chunks", binary.LittleEndian.AppendUint64(nil, 64)}).ID},
		{"longrun", f.snapshot(b, "../../engine/trace/testdata/longrun.wasm", "prod").ID},
		// motoko: a Motoko canister with 200 stable entries (about 4 k
		// events), where the fixed costs of a session weigh most.
		{"motoko", f.snapshot(b, "../../engine/testdata/motoko_v1.wasm", "prod", adds...).ID},
	} {
		cli := func(b *testing.B) {
			run, err := bench.Open(ctx, w.id)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := run.Rehearse(ctx, workbench.RehearsalOptions{}); err != nil {
				b.Fatal(err)
			}
			run.Close(ctx)
		}
		var r *Runner
		tui := func(b *testing.B) {
			sess, err := r.Start(ctx, source.RunRequest{Snapshot: w.id, Upgrade: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			at := 0
			if sess.Outcome().Status == "trapped" {
				at = sess.Len() - 1
			}
			if _, err := sess.Seek(ctx, at); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(sess.Len()), "events")
			sess.(*Session).Close(ctx)
		}
		// warm compiles the traced modules untimed, as the CLI's are
		// cached by the bench: the tracer keeps them.
		warm := func(b *testing.B) {
			r = NewRunner(trace.New(bench, st))
			tui(b)
		}
		b.Run(w.name+"/cli", func(b *testing.B) {
			defer reportCPU(b, cpuTime())
			for b.Loop() {
				cli(b)
			}
		})
		b.Run(w.name+"/tui", func(b *testing.B) {
			warm(b)
			defer reportCPU(b, cpuTime())
			for b.Loop() {
				tui(b)
			}
		})
		// ratio alternates one CLI and one run screen start in each
		// iteration and divides their summed CPU times, so the machine's
		// load weighs on both alike: item 3 asks for at most 1.3.
		b.Run(w.name+"/ratio", func(b *testing.B) {
			warm(b)
			var spent [2]time.Duration
			for b.Loop() {
				for k, run := range []func(*testing.B){cli, tui} {
					start := cpuTime()
					run(b)
					spent[k] += cpuTime() - start
				}
			}
			b.ReportMetric(float64(spent[1])/float64(spent[0]), "tui/cli")
		})
	}
}

// cpuTime returns the process's user and system CPU time: on a shared
// machine it measures the work better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
