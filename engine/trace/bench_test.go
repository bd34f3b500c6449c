package trace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/snapshots"
)

// BenchmarkSeek jumps to random events of the longrun fixture's
// pre_upgrade: about 1.2 billion instructions writing 256 MiB of heap.
// It reports the run's size and the heap pages the anchors hold, against
// the pages the run touches (the session keeps no per-event copies).
func BenchmarkSeek(b *testing.B) {
	f := newFixture(b)
	snap := f.install(b, "testdata/longrun.wasm")
	for _, anchors := range []int{0, 3} {
		b.Run(fmt.Sprintf("anchors=%d", anchors), func(b *testing.B) { benchSeek(b, f, snap.ID, anchors) })
	}
}

func benchSeek(b *testing.B, f *fixture, id snapshots.ID, anchors int) {
	ctx := context.Background()
	s, err := f.tracer.Open(ctx, id, Request{Upgrade: true, Anchors: anchors})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	// Let the anchors reach their places.
	for _, a := range s.anchors {
		a.at = <-a.rec.paused
	}
	last, err := s.Seek(ctx, s.Len()-1)
	if err != nil {
		b.Fatal(err)
	}
	touched, err := last.HeapPagesChanged()
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		// Interactive jumps come seconds apart: the anchor a jump used
		// has been refilled by the next one. Wait for that untimed.
		b.StopTimer()
		for _, a := range s.anchors {
			for !a.parked() {
				a.at = <-a.rec.paused
			}
		}
		start := cpuTime()
		b.StartTimer()
		if _, err := s.Seek(ctx, rng.IntN(s.Len())); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - start
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(s.Len()), "events")
	b.ReportMetric(float64(s.Result().Instructions), "instructions")
	b.ReportMetric(float64(len(touched)*engine.PageSize)/(1<<20), "MiB-touched")
	var held uint64
	for _, a := range s.anchors {
		for !a.parked() {
			a.at = <-a.rec.paused
		}
		v := &View{s: s, rec: a.rec, at: a.at}
		pages, err := v.HeapPagesChanged()
		if err != nil {
			b.Fatal(err)
		}
		held += uint64(len(pages))
	}
	b.ReportMetric(float64(held*engine.PageSize)/(1<<20), "MiB-anchors")
	b.ReportMetric(float64(held)/float64(len(touched)), "anchors/touched")
}

// BenchmarkTraceOverhead runs upgrades plainly and traced (as the CLI and
// the UI record them: DefaultMaxEvents in full, the rest counted); the
// ratio of the two is the cost of tracing. longrun is
// loop-heavy (one call per 64 KiB page), motoko is call-heavy (the Motoko
// runtime serialising stable variables), incident is the incident canister
// with 4 MiB of data: its pre_upgrade and post_upgrade call a small
// checksum function per 8-byte word (about a million events).
func BenchmarkTraceOverhead(b *testing.B) {
	f := newFixture(b)
	didl := candid.DefaultArg()
	add := []byte("DIDL\x00\x02\x7d\x71\x05\x02hi")
	var calls []call
	for range 200 {
		calls = append(calls, call{"add", add})
	}
	motoko := f.installArg(b, "../testdata/motoko_v1.wasm", didl, calls...)
	for _, w := range []struct {
		name string
		snap snapshots.Snapshot
		req  Request
	}{
		{"longrun", f.install(b, "testdata/longrun.wasm"), Request{Upgrade: true}},
		{"incident", f.install(b, "../testdata/incident.wasm", call{"add_chunks", u64(64)}), Request{Upgrade: true}},
		{"motoko", motoko, Request{Upgrade: true, Module: readFile(b, "../testdata/motoko_v2.wasm"), Arg: didl}},
	} {
		ctx := context.Background()
		var newMod *engine.Module
		if w.req.Module != nil {
			var err error
			if newMod, err = f.eng.Load(ctx, w.req.Module); err != nil {
				b.Fatal(err)
			}
		}
		plain := func(b *testing.B) {
			run, err := f.bench.Open(ctx, w.snap.ID)
			if err != nil {
				b.Fatal(err)
			}
			res, err := run.Canister.Upgrade(ctx, newMod, w.req.Arg, engine.UpgradeOptions{})
			if err != nil || res.Status != engine.StatusOK {
				b.Fatal(err, res.Trap)
			}
			run.Close(ctx)
		}
		traced := func(b *testing.B, req Request) int {
			s, err := f.tracer.Open(ctx, w.snap.ID, req)
			if err != nil {
				b.Fatal(err)
			}
			if s.Result().Status != engine.StatusOK {
				b.Fatal(s.Result().Trap)
			}
			defer s.Close(ctx)
			return s.Len()
		}
		// Compile the traced modules untimed, as plain loads its module
		// before timing: the tracer keeps them.
		traced(b, w.req)
		b.Run(w.name+"/plain", func(b *testing.B) {
			defer reportCPU(b, cpuTime())
			for b.Loop() {
				plain(b)
			}
		})
		// traced records DefaultMaxEvents and counts the rest; all
		// records every event, counted only the first.
		all, counted := w.req, w.req
		all.MaxEvents, counted.MaxEvents = 1<<40, 1
		for _, v := range []struct {
			name string
			req  Request
		}{{"traced", w.req}, {"traced-all", all}, {"traced-counted", counted}} {
			b.Run(w.name+"/"+v.name, func(b *testing.B) {
				defer reportCPU(b, cpuTime())
				var events int
				for b.Loop() {
					events = traced(b, v.req)
				}
				b.ReportMetric(float64(events), "events")
			})
		}
		// ratio alternates a plain and a traced run, so that the load of
		// a shared machine weighs on both alike: traced/plain is the CPU
		// time of the traced runs over the plain ones'.
		// ratio-counted does the same with traced-counted.
		for _, v := range []struct {
			name string
			req  Request
		}{{"ratio", w.req}, {"ratio-counted", counted}} {
			b.Run(w.name+"/"+v.name, func(b *testing.B) {
				var p, t time.Duration
				for b.Loop() {
					t0 := cpuTime()
					plain(b)
					t1 := cpuTime()
					traced(b, v.req)
					p, t = p+t1-t0, t+cpuTime()-t1
				}
				b.ReportMetric(float64(p)/float64(time.Millisecond)/float64(b.N), "plain-cpu-ms/op")
				b.ReportMetric(float64(t)/float64(time.Millisecond)/float64(b.N), "traced-cpu-ms/op")
				b.ReportMetric(float64(t)/float64(p), "traced/plain")
			})
		}
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

// reportCPU reports the CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkSeekCounted jumps into the part of a run the recording counted
// without recording: to the middle event of the incident canister's
// upgrade (a million calls) and to the trap of traps.wasm's
// stack_overflow (a recursion a million calls deep). Each jump
// re-executes the run from its start up to the target, recording the
// WindowEvents events before it; the session keeps no anchors, as the
// CLI's does not.
func BenchmarkSeekCounted(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for _, w := range []struct {
		name   string
		snap   snapshots.Snapshot
		req    Request
		target func(s *Session) int
	}{
		{"incident/middle", f.install(b, "../testdata/incident.wasm", call{"add_chunks", u64(64)}), Request{Upgrade: true},
			func(s *Session) int { return s.Len() / 2 }},
		{"stack_overflow/trap", f.install(b, "../testdata/traps.wasm", call{"touch", nil}), Request{Method: "stack_overflow"},
			func(s *Session) int { at, _ := s.Trap(); return at }},
	} {
		b.Run(w.name, func(b *testing.B) {
			s, err := f.tracer.Open(ctx, w.snap.ID, w.req)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(ctx)
			target := w.target(s)
			if s.known(target - 1) {
				b.Fatalf("event %d is recorded", target-1)
			}
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				if _, err := s.Seek(ctx, 0); err != nil {
					b.Fatal(err)
				}
				start := cpuTime()
				b.StartTimer()
				v, err := s.Seek(ctx, target)
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - start
				if v.Index() != target {
					b.Fatalf("at %d, want %d", v.Index(), target)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(s.Len()), "events")
		})
	}
}
