package snapshots

import (
	"fmt"
	"sort"
)

// ProblemKind classifies what fsck found wrong.
type ProblemKind string

// Kinds of fsck problems.
const (
	ProblemCorruptBlob     ProblemKind = "corrupt_blob"     // content does not match its hash, or does not decompress
	ProblemMissingBlob     ProblemKind = "missing_blob"     // a manifest references a blob the store lacks
	ProblemCorruptManifest ProblemKind = "corrupt_manifest" // unreadable, or its hash is not its name
	ProblemMissingParent   ProblemKind = "missing_parent"   // the lineage points to an absent snapshot
	ProblemDuplicateRef    ProblemKind = "duplicate_ref"    // two snapshots claim the same NAME@N
	ProblemCorruptPack     ProblemKind = "corrupt_pack"     // a pack file's index is unreadable: its blobs count as missing
)

// Problem is one thing fsck found wrong. Snapshot is the damaged
// snapshot's id ("" for a blob no snapshot references); Ref, Memory and
// Page locate it for a human.
type Problem struct {
	Snapshot string      `json:"snapshot"`
	What     ProblemKind `json:"what"`
	Detail   string      `json:"detail"`
	Ref      string      `json:"ref,omitempty"`
	Blob     string      `json:"blob,omitempty"`
	// Memory is "heap", "stable", "module" or "chunk"; Page is the page
	// index in that memory (or the chunk's position).
	Memory string  `json:"memory,omitempty"`
	Page   *uint64 `json:"page,omitempty"`
}

// String renders the problem as one line for the human fsck output.
func (p Problem) String() string {
	where := p.Ref
	if where == "" && p.Snapshot != "" {
		where = p.Snapshot[:min(12, len(p.Snapshot))]
	}
	if where == "" {
		where = "store"
	}
	loc := ""
	if p.Memory != "" {
		loc = " " + p.Memory
		if p.Page != nil {
			loc += fmt.Sprintf(" page %d", *p.Page)
		}
	}
	return fmt.Sprintf("%s%s: %s: %s", where, loc, p.What, p.Detail)
}

// CheckReport is the result of fsck: the `fsck --json` document.
type CheckReport struct {
	OK               bool      `json:"ok"`
	BlobsChecked     int       `json:"blobs_checked"`
	SnapshotsChecked int       `json:"snapshots_checked"`
	Problems         []Problem `json:"problems"`
	// UnreferencedBlobs counts intact blobs no snapshot uses (left by an
	// interrupted import); harmless, reported for information.
	UnreferencedBlobs int `json:"unreferenced_blobs"`
	// UnreferencedBytes is the space those blobs take in the store: what
	// `canscope prune` frees.
	UnreferencedBytes int64 `json:"unreferenced_bytes"`
	// UnclaimedManifests counts manifests no NAME@N names: an S3 commit
	// interrupted (or outraced) between writing its manifest and claiming
	// its NAME@N leaves one. Invisible and harmless, like unreferenced
	// blobs. The local store has none: its manifest write is the commit.
	UnclaimedManifests int `json:"unclaimed_manifests,omitempty"`
}

// Judge completes r from what a backend's fsck read: the ids of all
// manifests, the ones that decoded and verified, and the verdict on every
// blob (bad: corrupt with a reason; good: intact). It checks every
// reference (module, chunks, pages, parent) and that each NAME@N is
// unique, reports corrupt blobs nobody references (fix says how to remove
// one), counts unreferenced intact blobs and sets OK. One rule for every
// backend, so fsck reads the same on a directory and on a bucket.
func (r *CheckReport) Judge(ids []ID, manifests []*Manifest, bad map[Hash]string, good map[Hash]bool, fix func(Hash) string) {
	used := map[Hash]bool{}
	byID := map[ID]bool{}
	for _, id := range ids {
		byID[id] = true
	}
	refs := map[string]ID{}
	for _, m := range manifests {
		problem := func(h Hash, memory string, page *uint64) {
			used[h] = true
			if good[h] {
				return
			}
			p := Problem{Snapshot: m.ID.String(), Ref: m.Ref(), Blob: h.String(), Memory: memory, Page: page}
			if reason, ok := bad[h]; ok {
				p.What, p.Detail = ProblemCorruptBlob, fmt.Sprintf("blob %s: %s", h.Short(), reason)
			} else {
				p.What, p.Detail = ProblemMissingBlob, fmt.Sprintf("blob %s is not in the store", h.Short())
			}
			if page != nil {
				p.Detail = fmt.Sprintf("%s page %d (offset %#x): %s", memory, *page, *page*PageSize, p.Detail)
			} else {
				p.Detail = memory + ": " + p.Detail
			}
			r.Problems = append(r.Problems, p)
		}
		if !m.Module.IsZero() {
			problem(m.Module, "module", nil)
		}
		for i, c := range m.Chunks {
			n := uint64(i)
			problem(c, "chunk", &n)
		}
		for _, mem := range []struct {
			name  string
			table PageTable
		}{{"heap", m.Heap}, {"stable", m.Stable}} {
			for _, p := range mem.table.Pages {
				idx := p.Index
				problem(p.Hash, mem.name, &idx)
			}
		}
		if m.Parent != nil && !byID[*m.Parent] {
			r.Problems = append(r.Problems, Problem{
				Snapshot: m.ID.String(), Ref: m.Ref(), What: ProblemMissingParent,
				Detail: fmt.Sprintf("parent snapshot %s is not in the store", m.Parent.Short()),
			})
		}
		if other, dup := refs[m.Ref()]; dup {
			r.Problems = append(r.Problems, Problem{
				Snapshot: m.ID.String(), Ref: m.Ref(), What: ProblemDuplicateRef,
				Detail: fmt.Sprintf("%s is also claimed by snapshot %s", m.Ref(), other.Short()),
			})
		}
		refs[m.Ref()] = m.ID
	}
	// A corrupt blob nobody references yet is still a problem: the next
	// import would trust it instead of rewriting it.
	for h, reason := range bad {
		if !used[h] {
			r.Problems = append(r.Problems, Problem{
				What: ProblemCorruptBlob, Blob: h.String(),
				Detail: fmt.Sprintf("unreferenced blob %s: %s; %s", h.Short(), reason, fix(h)),
			})
		}
	}
	for h := range good {
		if !used[h] {
			r.UnreferencedBlobs++
		}
	}
	sort.SliceStable(r.Problems, func(i, j int) bool { return r.Problems[i].Snapshot < r.Problems[j].Snapshot })
	r.OK = len(r.Problems) == 0
}

// Referenced returns every blob the manifests reference (modules, chunks,
// pages): what prune keeps and fsck does not count as unreferenced.
func Referenced(manifests []*Manifest) map[Hash]bool {
	used := map[Hash]bool{}
	for _, m := range manifests {
		if !m.Module.IsZero() {
			used[m.Module] = true
		}
		for _, c := range m.Chunks {
			used[c] = true
		}
		for _, p := range m.Heap.Pages {
			used[p.Hash] = true
		}
		for _, p := range m.Stable.Pages {
			used[p.Hash] = true
		}
	}
	return used
}

// PruneReport says what a store's prune removed.
type PruneReport struct {
	BlobsRemoved int   `json:"blobs_removed"`
	BytesFreed   int64 `json:"bytes_freed"`
	TempRemoved  int   `json:"temp_files_removed"`
	BlobsKept    int   `json:"blobs_kept"`
	// BlobsTooYoung counts unreferenced blobs an S3 prune kept because
	// they are younger than its grace period: an import may be writing
	// them (S3 has no lock to wait for writers with).
	BlobsTooYoung int `json:"blobs_too_young,omitempty"`
}
