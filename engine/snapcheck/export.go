package snapcheck

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
)

// RefusedError is an export the IC would refuse, refused before writing.
type RefusedError struct {
	Ref    string
	Report Report
}

// Error names the snapshot and what the IC would refuse, on one line.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("export %s: the IC would refuse it: %s", e.Ref, e.Report.Summary())
}

// Export is the one road from a stored snapshot to a directory dfx and
// icp upload: the manifest as the replica reads it (ForExport), the
// replica's checks (Run, for a canister with settings set), then the
// files (dfx.Export). A failing check refuses the export with a
// *RefusedError and writes nothing, unless force; the report is returned
// either way so the caller can show it.
func Export(ctx context.Context, st snapshots.Store, m *snapshots.Manifest, dir string, set Settings, force bool) (Report, error) {
	return ExportProgress(ctx, st, m, dir, set, force, nil)
}

// ExportProgress is Export counting the bytes written in p (see
// dfx.ExportProgress).
func ExportProgress(ctx context.Context, st snapshots.Store, m *snapshots.Manifest, dir string, set Settings, force bool, p *snapshots.Progress) (Report, error) {
	m = ForExport(st, m)
	rep, err := Run(st, m, set)
	if err != nil {
		return rep, err
	}
	if !rep.OK && !force {
		return rep, &RefusedError{Ref: m.Ref(), Report: rep}
	}
	return rep, dfx.ExportProgress(ctx, st, m, dir, p)
}
