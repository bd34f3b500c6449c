package ic0

import (
	"encoding/base32"
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// PrincipalText returns the textual form of a principal id
// (e.g. "rrkah-fqaaa-aaaaa-aaaaq-cai"): base32 of CRC-32 ‖ bytes, lower
// case, in groups of five separated by dashes.
func PrincipalText(id []byte) string {
	buf := make([]byte, 4+len(id))
	binary.BigEndian.PutUint32(buf, crc32.ChecksumIEEE(id))
	copy(buf[4:], id)
	enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(buf))
	var b strings.Builder
	for i := 0; i < len(enc); i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(enc[i:min(i+5, len(enc))])
	}
	return b.String()
}
