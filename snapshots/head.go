package snapshots

import (
	"errors"
	"fmt"
	"strings"
)

// ErrMoved is wrapped by Commit's error when the name a snapshot continues
// gained a newer snapshot than the one it was made from, so callers can
// tell a refused race from a damaged store.
var ErrMoved = errors.New("a newer snapshot of the name was committed")

// ErrHasDescendants is wrapped by RemovalSet's refusal to remove a
// snapshot others descend from.
var ErrHasDescendants = errors.New("other snapshots descend from it")

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
	return fmt.Errorf("%s moved from %s to %s while this ran: %w; commit under another name or rerun on %s@latest",
		m.Name, parent.Ref(), head.Ref(), ErrMoved, m.Name)
}

// Damaged is a manifest a store holds but cannot use: unreadable,
// undecodable, or not hashing to its name. Reason says which.
type Damaged struct {
	ID     ID     `json:"id"`
	Reason string `json:"reason"`
}

// RemovalSet returns the snapshots removing ids removes: ids themselves
// and, with withDescendants, every snapshot whose lineage (parent or fork
// source) leads to one of them. Without it a snapshot another descends
// from is refused, naming the descendant, since removing it would leave
// that snapshot with a missing parent.
func RemovalSet(all []Snapshot, ids []ID, withDescendants bool) (map[ID]bool, error) {
	doomed := map[ID]bool{}
	for _, id := range ids {
		doomed[id] = true
	}
	byID := map[ID]Snapshot{}
	for _, s := range all {
		byID[s.ID] = s
	}
	for changed := true; changed; {
		changed = false
		for _, s := range all {
			if doomed[s.ID] {
				continue
			}
			for _, up := range []*ID{s.Parent, s.ForkedFrom} {
				if up == nil || !doomed[*up] {
					continue
				}
				if !withDescendants {
					return nil, fmt.Errorf("remove %s: %w (%s); remove them first or with it", byID[*up].Ref(), ErrHasDescendants, s.Ref())
				}
				doomed[s.ID] = true
				changed = true
				break
			}
		}
	}
	return doomed, nil
}

// ErrDamaged is wrapped by the error for a snapshot whose manifest a
// store holds but cannot use.
var ErrDamaged = errors.New("damaged")

// Err is the error for using d: it names the snapshot and fsck.
func (d Damaged) Err() error {
	return fmt.Errorf("snapshot %s is %w (%s); run `canscope fsck`", d.ID.Short(), ErrDamaged, d.Reason)
}

// MatchDamaged finds the damaged manifest whose id ref spells or is a
// prefix of (at least 4 hex digits, as ResolveRef accepts).
func MatchDamaged(damaged []Damaged, ref string) (Damaged, bool) {
	if len(ref) < 4 || !isHex(ref) {
		return Damaged{}, false
	}
	for _, d := range damaged {
		if strings.HasPrefix(d.ID.String(), ref) {
			return d, true
		}
	}
	return Damaged{}, false
}
