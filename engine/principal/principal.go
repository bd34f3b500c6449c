// Package principal converts Internet Computer principals (canister and
// user ids) between their bytes and their textual form, e.g.
// "rrkah-fqaaa-aaaaa-aaaaq-cai". The System API works with bytes; people,
// dfx and Candid text use the textual form.
package principal

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
)

// MaxLen is the longest principal the IC defines, in bytes.
const MaxLen = 29

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Text renders principal bytes in the textual form: base32 of the
// big-endian CRC-32 followed by the bytes, lower case, dashes every five
// characters. The management canister's empty principal is "aaaaa-aa".
func Text(id []byte) string {
	buf := make([]byte, 4+len(id))
	binary.BigEndian.PutUint32(buf, crc32.ChecksumIEEE(id))
	copy(buf[4:], id)
	s := strings.ToLower(encoding.EncodeToString(buf))
	var b strings.Builder
	for i := 0; i < len(s); i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+5, len(s))])
	}
	return b.String()
}

// Parse parses the textual form, checking its checksum and grouping, so a
// mistyped canister id is caught before anything runs under it.
func Parse(s string) ([]byte, error) {
	raw := strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	buf, err := encoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("principal %q: not base32 text", s)
	}
	if len(buf) < 4 {
		return nil, fmt.Errorf("principal %q: too short", s)
	}
	id := buf[4:]
	if len(id) > MaxLen {
		return nil, fmt.Errorf("principal %q: %d bytes, at most %d allowed", s, len(id), MaxLen)
	}
	if binary.BigEndian.Uint32(buf) != crc32.ChecksumIEEE(id) {
		return nil, fmt.Errorf("principal %q: checksum mismatch (typo?)", s)
	}
	if Text(id) != s {
		return nil, fmt.Errorf("principal %q: not in canonical form, want %q", s, Text(id))
	}
	return id, nil
}
