package candid

import "math/big"

// Value is a typed Candid value. Which payload field is set depends on
// Type.Kind:
//
//	bool                       Bool
//	nat, int, nat8 … int64     Int
//	float32, float64           Float
//	text                       Text
//	vec nat8 (blob)            Bytes
//	principal, service         Bytes (the principal)
//	func                       Bytes (the service principal) and Text (the method)
//	opt                        Elems (zero or one element)
//	vec                        Elems
//	record                     Fields, in type order
//	variant                    Fields (exactly one)
//	null, reserved             nothing
type Value struct {
	Type   *Type
	Bool   bool
	Int    *big.Int
	Float  float64
	Text   string
	Bytes  []byte
	Elems  []Value
	Fields []FieldValue
}

// FieldValue is one field of a record value or the chosen alternative of a
// variant value. Name is empty when only the hash is known.
type FieldValue struct {
	ID    uint32
	Name  string
	Value Value
}
