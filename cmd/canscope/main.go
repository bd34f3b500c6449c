// Command canscope inspects, diffs, rehearses and repairs Internet Computer
// canister snapshots offline. Without arguments it opens the terminal UI;
// the subcommands are the scriptable CLI described in README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/snapshots/s3store"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

// Exit codes of the CLI contract: CI jobs gate real upgrades on them.
const (
	exitOK      = 0
	exitError   = 1 // usage or input error
	exitTrapped = 3 // the canister trapped or rejected
)

func main() {
	// Ctrl+C or SIGTERM cancels the command's context, so an import or a
	// run stops where it checks and the command reports it in one line; a
	// second Ctrl+C kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// app holds what every command shares: the global flags and the output
// streams. Commands receive it instead of reaching for globals.
type app struct {
	storeFlag string
	cacheDir  string // --cache-dir: the S3 store's local cache
	cacheSize string // --cache-size: its bound
	stdout    io.Writer
	stderr    io.Writer
	getenv    func(string) string
}

// storeDir resolves the store location: --store, then $CANSCOPE_STORE, then
// $XDG_DATA_HOME/canscope, then ~/.local/share/canscope.
func (a *app) storeDir() (string, error) {
	if a.storeFlag != "" {
		return a.storeFlag, nil
	}
	if d := a.getenv("CANSCOPE_STORE"); d != "" {
		return d, nil
	}
	if d := a.getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "canscope"), nil
	}
	home := a.getenv("HOME")
	if home == "" {
		return "", errors.New("no store location: pass --store DIR or set CANSCOPE_STORE")
	}
	return filepath.Join(home, ".local", "share", "canscope"), nil
}

// store is what the commands need from a snapshot store: the backend
// interface plus fsck, a name for messages and Close. The local
// directory store and the S3 store both satisfy it, so every command
// works on either.
type store interface {
	snapshots.Store
	// Check is fsck: it verifies every blob and manifest.
	Check(ctx context.Context) (*snapshots.CheckReport, error)
	// Location names the store (a directory, an s3:// URL) in messages.
	Location() string
	// Close releases the store's resources.
	Close() error
}

// openStore opens (creating on first use) the store at storeDir.
// Commands close it when done.
func (a *app) openStore() (store, error) {
	loc, err := a.storeDir()
	if err != nil {
		return nil, err
	}
	return a.openStoreAt(loc)
}

// openStoreAt opens the store at loc: an s3://BUCKET/PREFIX URL (the S3
// store, configured from the AWS variables) or a directory.
func (a *app) openStoreAt(loc string) (store, error) {
	if !s3store.IsURL(loc) {
		st, err := fsstore.Open(loc) // its errors name the directory
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	cfg, err := s3store.FromEnv(loc, a.getenv)
	if err != nil {
		return nil, err
	}
	if cfg.CacheDir, err = a.cacheLocation(); err != nil {
		return nil, err
	}
	if a.cacheSize != "" {
		n, err := humanize.ParseBytes(a.cacheSize)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("--cache-size %q: want a size such as 20GiB", a.cacheSize)
		}
		cfg.CacheBytes = int64(n)
	}
	st, err := s3store.Open(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// cacheLocation resolves the S3 store's cache directory: --cache-dir,
// then $XDG_CACHE_HOME/canscope, then ~/.cache/canscope; "none" turns
// the cache off.
func (a *app) cacheLocation() (string, error) {
	switch {
	case a.cacheDir == "none":
		return "", nil
	case a.cacheDir != "":
		return a.cacheDir, nil
	case a.getenv("XDG_CACHE_HOME") != "":
		return filepath.Join(a.getenv("XDG_CACHE_HOME"), "canscope"), nil
	case a.getenv("HOME") != "":
		return filepath.Join(a.getenv("HOME"), ".cache", "canscope"), nil
	}
	return "", errors.New("no cache location for the S3 store: pass --cache-dir DIR (or none)")
}

// printJSON writes v as one indented JSON document on stdout, the --json
// output of every command.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// statusError carries a non-default exit code (3 for a trapped canister)
// after the command has printed its result.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }

func (e *statusError) Unwrap() error { return e.err }

// run executes the CLI under ctx and returns the process exit code. It
// never panics on bad input: every error becomes one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "canscope: internal error: %v (please report this)\n", r)
			code = exitError
		}
	}()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	err = withFlagHint(err)
	var se *statusError
	if errors.As(err, &se) {
		if se.err != nil && se.err.Error() != "" {
			fmt.Fprintf(stderr, "canscope: %s\n", oneLine(se.err.Error()))
		}
		return se.code
	}
	fmt.Fprintf(stderr, "canscope: %s\n", oneLine(err.Error()))
	return exitError
}

// oneLine folds a multi-line error into one line, as the CLI contract asks.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "canscope",
		Short:         "Inspect, diff, rehearse and repair Internet Computer canister snapshots",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runTUI(cmd)
		},
	}
	root.PersistentFlags().StringVar(&a.storeFlag, "store", "", "snapshot store: a directory or s3://BUCKET/PREFIX (default $CANSCOPE_STORE, else $XDG_DATA_HOME/canscope)")
	root.PersistentFlags().StringVar(&a.cacheDir, "cache-dir", "", "local cache of compiled modules, heap images (at most 8 GiB), the last instruction count of each run (the estimate of progress lines) and an s3:// store's blobs (default $XDG_CACHE_HOME/canscope; none: no cache)")
	root.PersistentFlags().StringVar(&a.cacheSize, "cache-size", "", "bound of the --cache-dir cache (default 20GiB)")
	root.PersistentFlags().String(themeFlag, "", "terminal UI theme: dark, light or high-contrast (default $CANSCOPE_THEME, else dark; NO_COLOR turns colour off)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w (see --help)", err)
	})
	for _, mk := range []func(*app) *cobra.Command{
		// Each capability adds its constructors here.
		newInstallCmd, newCallCmd, newUpgradeCmd, newTransplantCmd, newRestoreCmd, newDemoCmd,
		newImportCmd, newExportCmd, newCheckCmd, newLsCmd, newShowCmd, newDiffCmd, newForkCmd, newFsckCmd, newRmCmd, newPruneCmd, newTraceCmd,
		newPushCmd, newPullCmd, newHeadroomCmd,
	} {
		root.AddCommand(mk(a))
	}
	return root
}

// loadManifest opens the store and reads the manifest ref names, with its
// globals as the replica lists them (snapcheck.ForExport: an older
// manifest's trailing instruction counter is dropped), so show, diff and
// export all use the replica's list.
func (a *app) loadManifest(ref string) (store, *snapshots.Manifest, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, nil, err
	}
	snap, err := st.Resolve(ref)
	if err == nil {
		var m *snapshots.Manifest
		if m, err = st.Manifest(snap.ID); err == nil {
			return st, snapcheck.ForExport(st, m), nil
		}
	}
	st.Close()
	return nil, nil, err
}
