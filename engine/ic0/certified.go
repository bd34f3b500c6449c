package ic0

import (
	"github.com/tetratelabs/wazero/api"
)

// maxCertifiedData is the most data a canister may certify.
const maxCertifiedData = 32

// rootKeySize: root_key_size() -> i32.
func (h *Host) rootKeySize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.env.RootKey))
}

// rootKeyCopy: root_key_copy(dst, offset, size).
func (h *Host) rootKeyCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "root_key_copy", "root_key", dst, off, size, h.env.RootKey)
}

// certifiedDataSet: certified_data_set(src, size) sets State.CertifiedData
// (at most 32 bytes). It replaces the slice, never writes into it, so
// State.Rollback can restore the old one.
func (h *Host) certifiedDataSet(mod api.Module, s []uint64) {
	src, size := uint32(s[0]), uint32(s[1])
	h.charge(uint64(size))
	if size > maxCertifiedData {
		panic(ContractViolation("ic0_certified_data_set failed because the passed data must be no larger than %d bytes. Found %d bytes.", maxCertifiedData, size))
	}
	data := readHeap(mod, "certified_data_set", "", src, size)
	h.state.CertifiedData = append([]byte{}, data...)
}

// certificate returns the data certificate visible in the current context.
func (h *Host) certificate() []byte {
	switch h.msg.Context {
	case NonReplicatedQuery, CompositeQuery:
		if h.env.DataCertificate != nil || h.env.Certify == nil {
			return h.env.DataCertificate
		}
		if !h.certMade {
			// Made once per execution: it certifies the state the
			// query started from.
			h.cert, h.certMade = h.env.Certify(h.env.CanisterID, h.state.CertifiedData, h.env.Time), true
		}
		return h.cert
	}
	return nil
}

// dataCertificatePresent: data_certificate_present() -> i32.
func (h *Host) dataCertificatePresent(_ api.Module, s []uint64) {
	s[0] = 0
	if h.certificate() != nil {
		s[0] = 1
	}
}

// dataCertificateSize: data_certificate_size() -> i32; traps when there is
// no certificate.
func (h *Host) dataCertificateSize(_ api.Module, s []uint64) {
	c := h.certificate()
	if c == nil {
		panic(ContractViolation("%q cannot be executed in %s mode", "ic0_data_certificate_size", h.msg.Context))
	}
	h.msg.CertificateRead = true
	s[0] = uint64(len(c))
}

// dataCertificateCopy: data_certificate_copy(dst, offset, size).
func (h *Host) dataCertificateCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	c := h.certificate()
	if c == nil {
		panic(ContractViolation("%q cannot be executed in %s mode", "ic0_data_certificate_copy", h.msg.Context))
	}
	h.msg.CertificateRead = true
	copyOut(mod, "data_certificate_copy", "certificate", dst, off, size, c)
}
