package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/engine/workbench/demo"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// withFlagHint names the flag that fixes err. The packages below the CLI
// say what is wrong and what to do without naming flags (the UI and
// library callers reach them too); the CLI adds its flag here, once.
func withFlagHint(err error) error {
	var (
		transplant *workbench.TransplantError
		name       *snapshots.NameError
	)
	switch {
	case errors.As(err, &transplant):
		return fmt.Errorf("%w (--force)", err)
	case errors.Is(err, demo.ErrPresent), errors.Is(err, fsstore.ErrUnusableDir), errors.Is(err, fsstore.ErrNotAStore):
		return fmt.Errorf("%w (--store DIR)", err)
	case errors.Is(err, snapshots.ErrMoved):
		return fmt.Errorf("%w (--name NAME2)", err)
	case errors.Is(err, snapshots.ErrHasDescendants):
		return fmt.Errorf("%w (--with-descendants)", err)
	case errors.As(err, &name) && !strings.Contains(err.Error(), "--name"):
		return fmt.Errorf("%w (--name NAME)", err)
	}
	return err
}
