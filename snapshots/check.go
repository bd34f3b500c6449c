package snapshots

import "fmt"

// ProblemKind classifies what fsck found wrong.
type ProblemKind string

// Kinds of fsck problems.
const (
	ProblemCorruptBlob     ProblemKind = "corrupt_blob"     // content does not match its hash, or does not decompress
	ProblemMissingBlob     ProblemKind = "missing_blob"     // a manifest references a blob the store lacks
	ProblemCorruptManifest ProblemKind = "corrupt_manifest" // unreadable, or its hash is not its name
	ProblemMissingParent   ProblemKind = "missing_parent"   // the lineage points to an absent snapshot
	ProblemDuplicateRef    ProblemKind = "duplicate_ref"    // two snapshots claim the same NAME@N
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
}
