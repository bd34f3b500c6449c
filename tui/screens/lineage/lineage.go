package lineage

import (
	"strings"

	"github.com/canscope/canscope/snapshots"
)

// row is one line of the lineage tree: a canister heading or a snapshot.
type row struct {
	canister string // set on heading rows
	names    []string
	snap     *snapshots.Snapshot // set on snapshot rows
	depth    int                 // branch depth under the canister
	branch   bool                // the first snapshot of a branch
}

func (r row) heading() bool { return r.snap == nil }

// lineage arranges snapshots (oldest first) as a tree per canister. A
// snapshot that continues its parent's line (same name, not a fork or a
// checkpoint) stays at the parent's depth, so a long history of upgrades
// reads as a flat list; forks, checkpoints and renamed children indent
// under the snapshot they branched from. Snapshots whose parent is not in
// the store start their own line.
func lineage(all []snapshots.Snapshot) []row {
	byID := make(map[snapshots.ID]int, len(all))
	for i, s := range all {
		byID[s.ID] = i
	}
	children := make(map[snapshots.ID][]int)
	var canisters []string
	roots := make(map[string][]int)
	names := make(map[string][]string)
	for i, s := range all {
		if _, seen := roots[s.CanisterID]; !seen {
			canisters = append(canisters, s.CanisterID)
			roots[s.CanisterID] = nil
		}
		if !contains(names[s.CanisterID], s.Name) {
			names[s.CanisterID] = append(names[s.CanisterID], s.Name)
		}
		if s.Parent != nil {
			if _, ok := byID[*s.Parent]; ok && *s.Parent != s.ID {
				children[*s.Parent] = append(children[*s.Parent], i)
				continue
			}
		}
		roots[s.CanisterID] = append(roots[s.CanisterID], i)
	}

	var rows []row
	visited := make([]bool, len(all))
	var emit func(i, depth int, branch bool)
	emit = func(i, depth int, branch bool) {
		if visited[i] { // a corrupt store could hold a parent cycle
			return
		}
		visited[i] = true
		rows = append(rows, row{snap: &all[i], depth: depth, branch: branch})
		var cont []int
		for _, c := range children[all[i].ID] {
			if continues(all[i], all[c]) {
				cont = append(cont, c)
				continue
			}
			emit(c, depth+1, true)
		}
		for _, c := range cont {
			emit(c, depth, false)
		}
	}
	for _, c := range canisters {
		rows = append(rows, row{canister: c, names: names[c]})
		for _, i := range roots[c] {
			emit(i, 0, false)
		}
	}
	return rows
}

// continues reports whether child carries on parent's line rather than
// branching from it.
func continues(parent, child snapshots.Snapshot) bool {
	return child.Name == parent.Name && child.ForkedFrom == nil && child.MadeBy != snapshots.MadeByCheckpoint
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// matches reports whether a snapshot matches a filter query: a
// case-insensitive substring of its reference, canister, id, module hash,
// made-by or note.
func matches(s snapshots.Snapshot, query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return true
	}
	for _, f := range []string{s.Ref(), s.CanisterID, s.ID.String(), s.ModuleHash.String(), string(s.MadeBy), s.Note} {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// filterRows keeps the snapshot rows matching query and the headings of
// canisters that still have one.
func filterRows(rows []row, query string) []row {
	if strings.TrimSpace(query) == "" {
		return rows
	}
	var out []row
	for _, r := range rows {
		if r.heading() || matches(*r.snap, query) {
			out = append(out, r)
		}
	}
	// Drop headings left without snapshots.
	kept := out[:0]
	for i, r := range out {
		if r.heading() && (i+1 == len(out) || out[i+1].heading()) {
			continue
		}
		kept = append(kept, r)
	}
	return kept
}
