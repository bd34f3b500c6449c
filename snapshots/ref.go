package snapshots

import (
	"fmt"
	"strconv"
	"strings"
)

// NameError is ValidateName's error: why the store refuses a name.
type NameError struct{ text string }

func (e *NameError) Error() string { return e.text }

// ErrNoName is ValidateName's error for an empty name.
var ErrNoName = &NameError{"empty snapshot name"}

// ValidateName checks a snapshot name: 1-64 characters from letters,
// digits, '.', '_' and '-', not starting with '-' (it would read as a
// flag). '@' is excluded because it separates NAME@N.
func ValidateName(name string) error {
	if name == "" {
		return ErrNoName
	}
	if len(name) > 64 {
		return &NameError{fmt.Sprintf("snapshot name %q is longer than 64 characters", name)}
	}
	if name[0] == '-' {
		return &NameError{fmt.Sprintf("snapshot name %q starts with '-'", name)}
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return &NameError{fmt.Sprintf("snapshot name %q: use only letters, digits, '.', '_' and '-'", name)}
		}
	}
	return nil
}

// ResolveRef finds the snapshot ref names among all (oldest first):
//   - NAME@N: the N-th snapshot made under NAME (from 1);
//   - NAME or NAME@latest: the newest snapshot carrying NAME (the
//     explicit form reads well in CI jobs: upgrade prod@latest);
//   - a full id or a unique id prefix (at least 4 hex digits).
//
// A name wins over an id prefix that spells the same; an ambiguous prefix
// is an error listing the candidates.
func ResolveRef(all []Snapshot, ref string) (Snapshot, error) {
	if ref == "" {
		return Snapshot{}, fmt.Errorf("empty snapshot reference: use NAME, NAME@N or an id prefix")
	}
	if name, n, ok := strings.Cut(ref, "@"); ok {
		if n == "latest" {
			if s := newestNamed(all, name); s.Seq > 0 {
				return s, nil
			}
			return Snapshot{}, fmt.Errorf("snapshot %q: %w (run `canscope ls` to see the snapshots)", ref, ErrNotFound)
		}
		seq, err := strconv.Atoi(n)
		if err != nil || seq < 1 {
			return Snapshot{}, fmt.Errorf("snapshot reference %q: want NAME@N with N a number from 1, or NAME@latest", ref)
		}
		for _, s := range all {
			if s.Name == name && s.Seq == seq {
				return s, nil
			}
		}
		return Snapshot{}, fmt.Errorf("snapshot %q: %w (run `canscope ls` to see the snapshots)", ref, ErrNotFound)
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Name == ref {
			return newestNamed(all, ref), nil
		}
	}
	prefix := strings.ToLower(ref)
	if len(prefix) >= 4 && isHex(prefix) {
		var found []Snapshot
		for _, s := range all {
			if strings.HasPrefix(s.ID.String(), prefix) {
				found = append(found, s)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
		default:
			cands := make([]string, len(found))
			for i, s := range found {
				cands[i] = fmt.Sprintf("%s (%s)", s.ID.Short(), s.Ref())
			}
			return Snapshot{}, fmt.Errorf("snapshot id prefix %q is ambiguous: matches %s; give more digits", ref, strings.Join(cands, ", "))
		}
	}
	return Snapshot{}, fmt.Errorf("snapshot %q: %w (run `canscope ls` to see the snapshots)", ref, ErrNotFound)
}

// newestNamed returns the snapshot with the highest seq under name.
func newestNamed(all []Snapshot, name string) Snapshot {
	var best Snapshot
	for _, s := range all {
		if s.Name == name && s.Seq > best.Seq {
			best = s
		}
	}
	return best
}

// NextSeq returns the N the next snapshot under name gets.
func NextSeq(all []Snapshot, name string) int {
	return newestNamed(all, name).Seq + 1
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
