package certify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine/candid"
	"github.com/fxamacker/cbor/v2"
)

// VerifyAsset checks an http_request response as a boundary node (or the
// service worker) checks the v1 certification of dfinity/sdk's
// ic-certified-assets: header is the IC-Certificate value
// `certificate=:<base64>:, tree=:<base64>:`; the certificate's BLS
// signature verifies against rootKey (DER), its state tree's
// /canister/<canisterID>/certified_data equals the root hash of the
// header's tree (the self-described CBOR of labeled("http_assets",
// witness)), and that tree's leaf at ["http_assets", path] is the SHA-256
// of body. The certificate's time is not compared with a clock: offline,
// it is the run's time.
func VerifyAsset(header string, rootKey, canisterID []byte, path string, body []byte) error {
	fields, err := headerFields(header)
	if err != nil {
		return err
	}
	cert, err := base64.StdEncoding.DecodeString(fields["certificate"])
	if err != nil || fields["certificate"] == "" {
		return fmt.Errorf("IC-Certificate: no base64 certificate: %v", err)
	}
	rawTree, err := base64.StdEncoding.DecodeString(fields["tree"])
	if err != nil || fields["tree"] == "" {
		return fmt.Errorf("IC-Certificate: no base64 tree: %v", err)
	}
	certified, err := Lookup(cert, rootKey, "canister", string(canisterID), "certified_data")
	if err != nil {
		return err
	}
	tree, err := decodeTree(rawTree)
	if err != nil {
		return fmt.Errorf("IC-Certificate tree: %w", err)
	}
	if root := tree.digest(); !bytes.Equal(root[:], certified) {
		return fmt.Errorf("IC-Certificate: the tree's root hash %x is not the certified data %x", root, certified)
	}
	n := tree.find([]byte("http_assets"))
	if n != nil {
		n = n.find([]byte(path))
	}
	if n == nil || n.kind != 3 {
		return fmt.Errorf("IC-Certificate: the tree certifies nothing at http_assets/%s", path)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(n.data, sum[:]) {
		return fmt.Errorf("IC-Certificate: the body's SHA-256 %x is not the certified %x", sum, n.data)
	}
	return nil
}

// headerFields splits `name=:value:, name=:value:` into its fields.
func headerFields(h string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(h, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(value) < 2 || value[0] != ':' || value[len(value)-1] != ':' {
			return nil, fmt.Errorf("IC-Certificate: malformed field %q (want name=:value:)", part)
		}
		out[name] = value[1 : len(value)-1]
	}
	return out, nil
}

// decodeTree reads a self-described CBOR hash tree.
func decodeTree(b []byte) (*node, error) {
	body, ok := bytes.CutPrefix(b, []byte{0xd9, 0xd9, 0xf7})
	if !ok {
		return nil, errors.New("not self-described CBOR")
	}
	var v any
	if err := cbor.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return parse(v)
}

// HTTPResponse is the part of the asset canister's HttpResponse record a
// verifier reads.
type HTTPResponse struct {
	StatusCode uint16
	Headers    [][2]string
	Body       []byte
}

// Header returns the value of the first header named name (any case).
func (r HTTPResponse) Header(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// DecodeHTTPResponse reads an http_request reply: one Candid record with
// status_code : nat16, headers : vec record { text; text } and body : blob.
func DecodeHTTPResponse(reply []byte) (HTTPResponse, error) {
	vals, err := candid.Decode(reply)
	if err != nil {
		return HTTPResponse{}, fmt.Errorf("http_request reply: %w", err)
	}
	if len(vals) != 1 || vals[0].Type.Kind != candid.Record {
		return HTTPResponse{}, errors.New("http_request reply: not one HttpResponse record")
	}
	var r HTTPResponse
	seen := 0
	for _, f := range vals[0].Fields {
		v := f.Value
		switch f.ID {
		case candid.Hash("status_code"):
			if v.Type.Kind != candid.Nat16 {
				return HTTPResponse{}, errors.New("http_request reply: status_code is not a nat16")
			}
			r.StatusCode, seen = uint16(v.Int.Uint64()), seen+1
		case candid.Hash("body"):
			r.Body, seen = v.Bytes, seen+1
		case candid.Hash("headers"):
			for _, h := range v.Elems {
				if len(h.Fields) != 2 {
					return HTTPResponse{}, errors.New("http_request reply: a header is not a (text, text) pair")
				}
				r.Headers = append(r.Headers, [2]string{h.Fields[0].Value.Text, h.Fields[1].Value.Text})
			}
			seen++
		}
	}
	if seen != 3 {
		return HTTPResponse{}, errors.New("http_request reply: HttpResponse lacks status_code, headers or body")
	}
	return r, nil
}

// VerifyAssetReply decodes an http_request reply and verifies it for path
// with VerifyAsset; it returns the response (also when it fails to verify).
func VerifyAssetReply(reply, rootKey, canisterID []byte, path string) (HTTPResponse, error) {
	r, err := DecodeHTTPResponse(reply)
	if err != nil {
		return r, err
	}
	h, ok := r.Header("IC-Certificate")
	if !ok {
		return r, fmt.Errorf("http_request reply (status %d): no IC-Certificate header", r.StatusCode)
	}
	return r, VerifyAsset(h, rootKey, canisterID, path, r.Body)
}
