// Package certify issues data certificates offline: the certificate a
// non-replicated query reads with ic0.data_certificate_copy, in the IC's
// format (a CBOR map {"tree", "signature"} under the self-describing tag,
// the tree holding /canister/<id>/certified_data and /time, the signature a
// BLS12-381 signature in G1 over the tree's root hash), as the interface
// specification's "Certification" section and the replica
// (rs/crypto/tree_hash, rs/certification) define it.
//
// The signature is made with a local key, never the IC's: a certificate
// canscope issues verifies against the Signer's RootKey (which canscope
// gives the canister as ic0.root_key), not against mainnet's root key.
package certify

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/cloudflare/circl/sign/bls"
	"github.com/fxamacker/cbor/v2"
)

// derPrefix is the DER header of a BLS12-381 G2 public key as the IC
// encodes its root key (OID 1.3.6.1.4.1.44668.5.3.1.2.1 with curve
// 1.3.6.1.4.1.44668.5.3.2.1), followed by the 96-byte compressed key.
var derPrefix = []byte{
	0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05,
	0x03, 0x01, 0x02, 0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03,
	0x02, 0x01, 0x03, 0x61, 0x00,
}

// stateRootDomain separates the signed message (domain_sep("ic-state-root")).
var stateRootDomain = append([]byte{byte(len("ic-state-root"))}, "ic-state-root"...)

// selfDescribed is the CBOR self-describing tag certificates carry.
const selfDescribed = 55799

// DefaultSeed derives the key canscope signs with unless told otherwise;
// anyone can rebuild it, so its certificates prove nothing beyond canscope.
var DefaultSeed = []byte("canscope local data certificate key, not the IC's")

// Signer signs certificates with a local BLS12-381 key.
type Signer struct {
	key     *bls.PrivateKey[bls.G2]
	rootKey []byte
}

// NewSigner derives a key from seed (at least 32 bytes).
func NewSigner(seed []byte) (*Signer, error) {
	key, err := bls.KeyGen[bls.G2](seed, nil, []byte("canscope certify"))
	if err != nil {
		return nil, fmt.Errorf("certificate key: %w", err)
	}
	pub, err := key.PublicKey().MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("certificate key: %w", err)
	}
	return &Signer{key: key, rootKey: append(append([]byte{}, derPrefix...), pub...)}, nil
}

// RootKey returns the DER public key certificates verify against.
func (s *Signer) RootKey() []byte { return bytes.Clone(s.rootKey) }

// Certificate returns the certificate of canisterID's certified data at
// time (ns since the epoch).
func (s *Signer) Certificate(canisterID, certifiedData []byte, time uint64) ([]byte, error) {
	tree := fork(
		labeled("canister", labeled(string(canisterID), labeled("certified_data", leaf(certifiedData)))),
		labeled("time", leaf(binary.AppendUvarint(nil, time))), // unsigned LEB128
	)
	root := tree.digest()
	sig := bls.Sign(s.key, append(bytes.Clone(stateRootDomain), root[:]...))
	return cbor.Marshal(cbor.Tag{Number: selfDescribed, Content: certificate{Tree: tree.cbor(), Signature: sig}})
}

// certificate is the CBOR map of a certificate (no delegation: the local
// key signs as the root).
type certificate struct {
	Tree      any    `cbor:"tree"`
	Signature []byte `cbor:"signature"`
}

// node is a hash tree node: empty (0), fork (1), labeled (2), leaf (3) or
// pruned (4), as the interface specification's HashTree.
type node struct {
	kind        uint64
	label, data []byte
	l, r        *node
}

func fork(l, r *node) *node               { return &node{kind: 1, l: l, r: r} }
func labeled(label string, t *node) *node { return &node{kind: 2, label: []byte(label), l: t} }
func leaf(data []byte) *node              { return &node{kind: 3, data: bytes.Clone(data)} }

// domain returns the domain separator of a hash tree node kind.
func domain(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// digest is the node's reconstructed hash (the specification's
// reconstruct).
func (n *node) digest() [32]byte {
	h := sha256.New()
	switch n.kind {
	case 0:
		h.Write(domain("ic-hashtree-empty"))
	case 1:
		l, r := n.l.digest(), n.r.digest()
		h.Write(domain("ic-hashtree-fork"))
		h.Write(l[:])
		h.Write(r[:])
	case 2:
		t := n.l.digest()
		h.Write(domain("ic-hashtree-labeled"))
		h.Write(n.label)
		h.Write(t[:])
	case 3:
		h.Write(domain("ic-hashtree-leaf"))
		h.Write(n.data)
	case 4:
		var d [32]byte
		copy(d[:], n.data)
		return d
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// cbor is the node as the CBOR arrays of the specification.
func (n *node) cbor() any {
	switch n.kind {
	case 1:
		return []any{uint64(1), n.l.cbor(), n.r.cbor()}
	case 2:
		return []any{uint64(2), n.label, n.l.cbor()}
	case 3, 4:
		return []any{n.kind, n.data}
	}
	return []any{uint64(0)}
}

// Lookup verifies cert against rootKey (DER) and returns the leaf at path
// in its tree, e.g. Lookup(cert, key, "canister", id, "certified_data").
func Lookup(cert, rootKey []byte, path ...string) ([]byte, error) {
	body, ok := bytes.CutPrefix(cert, []byte{0xd9, 0xd9, 0xf7}) // tag 55799
	if !ok {
		return nil, errors.New("certificate: not a self-described CBOR certificate")
	}
	var c certificate
	if err := cbor.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	tree, err := parse(c.Tree)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(rootKey, derPrefix) {
		return nil, errors.New("certificate: the root key is not a DER BLS12-381 key")
	}
	var pub bls.PublicKey[bls.G2]
	if err := pub.UnmarshalBinary(rootKey[len(derPrefix):]); err != nil {
		return nil, fmt.Errorf("certificate: root key: %w", err)
	}
	root := tree.digest()
	if !bls.Verify(&pub, append(bytes.Clone(stateRootDomain), root[:]...), c.Signature) {
		return nil, errors.New("certificate: the signature does not verify against the root key")
	}
	n := tree
	for _, label := range path {
		if n = n.find([]byte(label)); n == nil {
			return nil, fmt.Errorf("certificate: no %q in the tree", label)
		}
	}
	if n.kind != 3 {
		return nil, errors.New("certificate: the path does not end at a leaf")
	}
	return n.data, nil
}

// find returns the subtree labeled label among n's forks.
func (n *node) find(label []byte) *node {
	switch n.kind {
	case 1:
		if t := n.l.find(label); t != nil {
			return t
		}
		return n.r.find(label)
	case 2:
		if bytes.Equal(n.label, label) {
			return n.l
		}
	}
	return nil
}

// parse reads a CBOR-decoded hash tree.
func parse(v any) (*node, error) {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return nil, errors.New("certificate: malformed tree")
	}
	kind, ok := a[0].(uint64)
	bs := func(i int) []byte {
		if i < len(a) {
			b, _ := a[i].([]byte)
			return b
		}
		return nil
	}
	switch {
	case !ok:
	case kind == 0 && len(a) == 1:
		return &node{}, nil
	case kind == 1 && len(a) == 3:
		l, err := parse(a[1])
		if err != nil {
			return nil, err
		}
		r, err := parse(a[2])
		if err != nil {
			return nil, err
		}
		return fork(l, r), nil
	case kind == 2 && len(a) == 3:
		t, err := parse(a[2])
		if err != nil {
			return nil, err
		}
		return &node{kind: 2, label: bs(1), l: t}, nil
	case (kind == 3 || kind == 4) && len(a) == 2:
		return &node{kind: kind, data: bs(1)}, nil
	}
	return nil, errors.New("certificate: malformed tree")
}

// LocalCertificates returns an environment adjustment that gives
// non-replicated queries data certificates signed with canscope's local
// key (DefaultSeed), whose public key becomes ic0.root_key: they verify
// against it, never against mainnet's root key. An environment that
// brings its own certificate, certifier or root key is left as it is.
// canscope call and the UI's runs use it alike.
func LocalCertificates() (func(env *ic0.Env), error) {
	signer, err := NewSigner(DefaultSeed)
	if err != nil {
		return nil, err
	}
	return func(env *ic0.Env) {
		if env.Certify != nil || env.DataCertificate != nil || len(env.RootKey) > 0 {
			return
		}
		env.RootKey = signer.RootKey()
		env.Certify = func(id, data []byte, time uint64) []byte {
			cert, err := signer.Certificate(id, data, time)
			if err != nil {
				return nil // CBOR of byte strings and integers cannot fail
			}
			return cert
		}
	}, nil
}
