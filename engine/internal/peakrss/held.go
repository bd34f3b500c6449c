package peakrss

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Usage is one reading of the process's memory.
//
// VmHWM does not see everything a process holds: a memfd's pages (the
// committed heaps live in memfds) count in RssShmem only while they are
// mapped, yet they are RAM the system cannot reclaim without swap. Held
// counts them whether mapped or not. Pages of ordinary files (the stable
// memory spill file, heap images) count only while mapped: unmapped, they
// are page cache the kernel writes back and reclaims.
type Usage struct {
	RSS, Anon, File, Shmem uint64
	// Memfd is the bytes allocated by the process's open memfds.
	Memfd uint64
	// Spill is the bytes allocated by the process's open unlinked
	// regular files (the stable memory spill file): disk, not RAM, shown
	// so that a report says where the data went.
	Spill uint64
}

// Held returns the memory the process holds: anonymous and mapped file
// pages plus its memfds' pages (the shmem it maps is memfd pages, so they
// count once).
func (u Usage) Held() uint64 { return u.Anon + u.File + max(u.Shmem, u.Memfd) }

// String renders the usage in MiB.
func (u Usage) String() string {
	return fmt.Sprintf("held %d MiB (RSS %d: anon %d, file %d, shmem %d; memfd %d) spill file %d MiB",
		u.Held()>>20, u.RSS>>20, u.Anon>>20, u.File>>20, u.Shmem>>20, u.Memfd>>20, u.Spill>>20)
}

// Now reads the process's memory usage. The status and the files are
// two readings; while pages move between them (a heap commit writes its
// private pages into the memfd and drops them) Now reads the files before
// and after the status and retries until they agree within 4 MiB, so that
// a page is not counted twice.
func Now() (Usage, error) {
	var u Usage
	for range 8 {
		before, err := files()
		if err != nil {
			return u, err
		}
		if u, err = status(); err != nil {
			return u, err
		}
		after, err := files()
		if err != nil {
			return u, err
		}
		u.Memfd, u.Spill = after.Memfd, after.Spill
		if after.Memfd-min(after.Memfd, before.Memfd) <= 4<<20 && before.Memfd-min(before.Memfd, after.Memfd) <= 4<<20 {
			break
		}
	}
	return u, nil
}

// status reads the resident set sizes of /proc/self/status.
func status() (Usage, error) {
	var u Usage
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch k {
		case "VmRSS":
			dst = &u.RSS
		case "RssAnon":
			dst = &u.Anon
		case "RssFile":
			dst = &u.File
		case "RssShmem":
			dst = &u.Shmem
		default:
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return u, fmt.Errorf("%s: %w", k, err)
		}
		*dst = kb << 10
	}
	return u, nil
}

// files reads the allocated sizes of the process's memfds and unlinked
// files.
func files() (Usage, error) {
	var u Usage
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return u, err
	}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil {
			continue
		}
		memfd := strings.HasPrefix(link, "/memfd:")
		if !memfd && !strings.HasSuffix(link, " (deleted)") {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/self/fd/"+fd.Name(), &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue
		}
		if memfd {
			u.Memfd += uint64(st.Blocks) * 512
		} else {
			u.Spill += uint64(st.Blocks) * 512
		}
	}
	return u, nil
}

// Sampler reads the process's usage every interval in the background and
// keeps the reading with the largest Held, with the phase it fell in.
// Sampling can miss a peak shorter than the interval; VmHWM (Read) cannot,
// but does not see unmapped memfd pages: memory tests check both.
type Sampler struct {
	mu    sync.Mutex
	phase string
	peak  Usage
	at    string
	stop  chan struct{}
	done  chan struct{}
	start time.Time
	log   []string
}

// Sample starts a sampler; Stop ends it. It skips t where /proc does not
// give the readings.
func Sample(t testing.TB, every time.Duration) *Sampler {
	t.Helper()
	if _, err := Now(); err != nil {
		t.Skip("no /proc readings:", err)
	}
	s := &Sampler{phase: "start", stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			s.take()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Sampler) take() {
	u, err := Now()
	if err != nil {
		return
	}
	s.mu.Lock()
	if u.Held() > s.peak.Held() {
		s.peak, s.at = u, s.phase
	}
	s.mu.Unlock()
}

// Phase names what the process does from now on, for the peak's report;
// it takes a reading first.
func (s *Sampler) Phase(name string) {
	s.take()
	u, _ := Now()
	s.mu.Lock()
	s.log = append(s.log, fmt.Sprintf("%6.1fs %s: %s", time.Since(s.start).Seconds(), name, u))
	s.phase = name
	s.mu.Unlock()
	s.take()
}

// Phases returns one line per phase: when it began and the usage then.
func (s *Sampler) Phases() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// Stop ends the sampling (once) and returns the peak reading and the
// phase it fell in.
func (s *Sampler) Stop() (Usage, string) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.take()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.at
}
