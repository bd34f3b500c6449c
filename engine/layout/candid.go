package layout

import (
	"fmt"

	"github.com/canscope/canscope/engine/candid"
)

// maxCandidPreview bounds the Candid text kept for a stable_save message.
const maxCandidPreview = 400

// Candid describes a Candid message stored at stable offset 0, the format
// of ic_cdk::storage::stable_save (Rust canisters that serialise their
// state in pre_upgrade).
type Candid struct {
	// Bytes is the message length, 0 when it does not decode.
	Bytes uint64 `json:"bytes"`
	// Values is the start of the message in Candid text.
	Values string `json:"values,omitempty"`
	Note   string `json:"note,omitempty"`
}

func readCandid(mr *memReader, deep bool) (*Candid, error) {
	if !deep {
		// The length is only known by decoding: label the first page.
		return &Candid{Bytes: min(mr.size, wasmPageSize), Note: "not decoded (shallow detection)"}, nil
	}
	data := make([]byte, min(mr.size, maxMotokoData))
	if err := mr.read(data, 0); err != nil {
		return nil, err
	}
	c := &Candid{}
	vals, n, err := candid.DecodePrefix(data, nil)
	if err != nil {
		c.Note = err.Error()
		if uint64(len(data)) < mr.size {
			c.Note += fmt.Sprintf(" (only the first %d bytes were read)", len(data))
		}
		return c, nil
	}
	c.Bytes = uint64(n)
	c.Values = preview(candid.Format(vals), maxCandidPreview)
	return c, nil
}

func (c *Candid) summary() string {
	if c.Values == "" && c.Bytes > 0 {
		return "Candid message at offset 0 (ic_cdk stable_save)"
	}
	if c.Bytes == 0 {
		return "DIDL at offset 0 that does not decode: " + c.Note
	}
	return fmt.Sprintf("Candid message at offset 0 (ic_cdk stable_save), %d bytes", c.Bytes)
}
