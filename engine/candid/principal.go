package candid

import (
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// maxPrincipalLen is the longest principal the IC defines.
const maxPrincipalLen = 29

var principalEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// PrincipalText renders principal bytes in the textual form
// (CRC-32 big-endian ++ bytes, base32, lower case, dashes every 5
// characters), e.g. the management canister's empty principal is "aaaaa-aa".
func PrincipalText(id []byte) string {
	buf := make([]byte, 4+len(id))
	binary.BigEndian.PutUint32(buf, crc32.ChecksumIEEE(id))
	copy(buf[4:], id)
	s := strings.ToLower(principalEncoding.EncodeToString(buf))
	var b strings.Builder
	for i := 0; i < len(s); i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+5, len(s))])
	}
	return b.String()
}

// ParsePrincipal parses the textual form of a principal and checks its
// checksum and grouping.
func ParsePrincipal(s string) ([]byte, error) {
	raw := strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	buf, err := principalEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("principal %q: not base32 text", s)
	}
	if len(buf) < 4 {
		return nil, fmt.Errorf("principal %q: too short", s)
	}
	id := buf[4:]
	if len(id) > maxPrincipalLen {
		return nil, fmt.Errorf("principal %q: %d bytes, at most %d allowed", s, len(id), maxPrincipalLen)
	}
	if binary.BigEndian.Uint32(buf) != crc32.ChecksumIEEE(id) {
		return nil, fmt.Errorf("principal %q: checksum mismatch (typo?)", s)
	}
	if PrincipalText(id) != s {
		return nil, fmt.Errorf("principal %q: not in canonical form, want %q", s, PrincipalText(id))
	}
	return id, nil
}

var errPrincipalLen = errors.New("principal longer than 29 bytes")
