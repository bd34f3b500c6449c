package snapshots

import (
	"errors"
	"fmt"
)

// ErrMoved is wrapped by Commit's error when the name a snapshot continues
// gained a newer snapshot than the one it was made from, so callers can
// tell a refused race from a damaged store.
var ErrMoved = errors.New("name moved")

// CheckHead is the rule every Store's Commit applies under its write lock,
// like git's refusal of a non-fast-forward push: a snapshot that continues
// its parent's name (a call, upgrade or re-import committed under the
// same name) must be a child of that name's newest snapshot. Otherwise
// two concurrent commits on one name would become siblings and the name
// would silently resolve to one that lacks the other's change.
// A snapshot under a new name (a fork, --name) is never refused.
func CheckHead(all []Snapshot, m *Manifest) error {
	if m.Parent == nil {
		return nil
	}
	var parent Snapshot
	for _, s := range all {
		if s.ID == *m.Parent {
			parent = s
		}
	}
	if parent.Name != m.Name {
		return nil
	}
	head := newestNamed(all, m.Name)
	if head.ID == parent.ID {
		return nil
	}
	return fmt.Errorf("%w: %s moved from %s to %s while this ran; commit with --name NAME2 or rerun on %s@latest",
		ErrMoved, m.Name, parent.Ref(), head.Ref(), m.Name)
}
