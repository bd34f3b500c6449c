package workbench

import (
	"fmt"
	"slices"

	"github.com/canscope/canscope/snapshots"
)

// SkippedPreUpgrade is what an upgrade with skip_pre_upgrade did with the
// state: the replica discards the heap without running the old module's
// pre_upgrade, so post_upgrade finds only what an earlier pre_upgrade (or
// any earlier message) left in stable memory. A rehearsal reports it so
// "ok" never hides that the heap's data is gone.
type SkippedPreUpgrade struct {
	// BytesRead is the stable memory the upgrade's start and post_upgrade
	// read (stable_read and stable64_read calls that returned).
	BytesRead uint64
	// Zeros is set when every page they read was zero in the base
	// snapshot: nothing had ever been written there.
	Zeros bool
	// LastWritten is the newest snapshot of the base's lineage that
	// changed one of the pages read: where the data post_upgrade found was
	// written. Zero when nothing or only zeros were read, or the run has
	// no base snapshot.
	LastWritten snapshots.Snapshot
}

// String is the verdict line the CLI and the UI print.
func (s SkippedPreUpgrade) String() string {
	const lead = "heap discarded; post_upgrade read "
	switch {
	case s.BytesRead == 0:
		return lead + "nothing from stable memory"
	case s.Zeros:
		return fmt.Sprintf("%s%d bytes of stable memory, all zero (never written)", lead, s.BytesRead)
	case s.LastWritten.ID.IsZero():
		return fmt.Sprintf("%s%d bytes of stable memory", lead, s.BytesRead)
	}
	return fmt.Sprintf("%s%d bytes of stable memory last written at snapshot %s", lead, s.BytesRead, s.LastWritten.Ref())
}

// skippedPreUpgrade builds the report for a first step that read pages
// from the stable memory of the run's base snapshot.
func (r *Run) skippedPreUpgrade(bytes uint64, pages map[uint64]struct{}) (SkippedPreUpgrade, error) {
	out := SkippedPreUpgrade{BytesRead: bytes}
	if bytes == 0 || r.base == nil {
		return out, nil
	}
	read := slices.Sorted(func(yield func(uint64) bool) {
		for p := range pages {
			if !yield(p) {
				return
			}
		}
	})
	out.Zeros = !slices.ContainsFunc(read, func(p uint64) bool { return !r.base.Stable.Lookup(p).IsZero() })
	if out.Zeros {
		return out, nil
	}
	// Walk up the lineage until a snapshot differs from its parent on a
	// page read; a root snapshot (import, install) wrote them itself.
	m := r.base
	for m.Parent != nil {
		parent, err := r.bench.store.Manifest(*m.Parent)
		if err != nil {
			return out, fmt.Errorf("read the lineage of %s: %w", r.base.Ref(), err)
		}
		if slices.ContainsFunc(read, func(p uint64) bool { return m.Stable.Lookup(p) != parent.Stable.Lookup(p) }) {
			break
		}
		m = parent
	}
	out.LastWritten = m.Snapshot
	return out, nil
}
