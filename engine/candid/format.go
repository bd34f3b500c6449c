package candid

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/canscope/canscope/engine/principal"
)

// Format renders values as a Candid argument tuple, e.g.
// `(record { id = 1_234 : nat64; name = "x" }, variant { ok })`.
// Numbers carry a type annotation unless their type is the one an
// unannotated literal gets (nat, or float64 with a decimal point), so the
// text parses back to the same typed values.
func Format(vals []Value) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		writeValue(&b, v, true)
	}
	b.WriteByte(')')
	return b.String()
}

// String renders v as Candid text.
func (v Value) String() string {
	var b strings.Builder
	writeValue(&b, v, true)
	return b.String()
}

// writeValue writes v; annOK says whether the position admits a type
// annotation without parentheses (tuple items, vec items, field values),
// which `opt` operands do not.
func writeValue(b *strings.Builder, v Value, annOK bool) {
	t := v.Type
	if t == nil {
		b.WriteString("null")
		return
	}
	annotate := func(text string) {
		if !annOK {
			b.WriteByte('(')
		}
		b.WriteString(text)
		b.WriteString(" : ")
		b.WriteString(t.Kind.String())
		if !annOK {
			b.WriteByte(')')
		}
	}
	switch t.Kind {
	case Null:
		b.WriteString("null")
	case Reserved:
		annotate("null")
	case Bool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case Nat:
		b.WriteString(groupDigits(v.Int.String()))
	case Int, Nat8, Nat16, Nat32, Nat64, Int8, Int16, Int32, Int64:
		annotate(groupDigits(v.Int.String()))
	case Float64:
		s := formatFloat(v.Float, 64)
		if strings.ContainsAny(s, ".e") {
			b.WriteString(s)
		} else {
			annotate(s)
		}
	case Float32:
		annotate(formatFloat(v.Float, 32))
	case Text:
		b.WriteString(quoteText(v.Text))
	case Principal:
		b.WriteString("principal ")
		b.WriteString(quoteText(principal.Text(v.Bytes)))
	case Service:
		b.WriteString("service ")
		b.WriteString(quoteText(principal.Text(v.Bytes)))
	case Func:
		b.WriteString("func ")
		b.WriteString(quoteText(principal.Text(v.Bytes)))
		b.WriteByte('.')
		b.WriteString(quoteName(v.Text))
	case Opt:
		if len(v.Elems) == 0 {
			b.WriteString("null")
			return
		}
		b.WriteString("opt ")
		writeValue(b, v.Elems[0], false)
	case Vec:
		if t.isBlob() {
			b.WriteString("blob ")
			b.WriteString(quoteBlob(v.Bytes))
			return
		}
		writeBlock(b, "vec", len(v.Elems), func(i int) { writeValue(b, v.Elems[i], true) })
	case Record:
		tuple := t.isTuple()
		writeBlock(b, "record", len(v.Fields), func(i int) {
			f := v.Fields[i]
			if !tuple {
				writeLabel(b, Field{ID: f.ID, Name: f.Name})
				b.WriteString(" = ")
			}
			writeValue(b, f.Value, true)
		})
	case Variant:
		writeBlock(b, "variant", len(v.Fields), func(i int) {
			f := v.Fields[i]
			writeLabel(b, Field{ID: f.ID, Name: f.Name})
			if f.Value.Type != nil && f.Value.Type.Kind == Null {
				return
			}
			b.WriteString(" = ")
			writeValue(b, f.Value, true)
		})
	case MotokoAlias, MotokoRegion:
		switch {
		case t.Kind == MotokoAlias && len(v.Elems) == 1:
			writeValue(b, v.Elems[0], annOK)
		case t.Kind == MotokoRegion && len(v.Fields) == 3:
			writeBlock(b, "region", 2, func(i int) {
				f := v.Fields[i]
				b.WriteString(f.Name + " = ")
				writeValue(b, f.Value, true)
			})
		case v.Int != nil:
			// A value written earlier in the message, shared here.
			fmt.Fprintf(b, "<same %s as %d bytes back>", t.Kind, -v.Int.Int64())
		default:
			b.WriteString("<" + t.Kind.String() + ">")
		}
	default:
		b.WriteString("<" + t.Kind.String() + ">")
	}
}

func writeBlock(b *strings.Builder, keyword string, n int, item func(int)) {
	b.WriteString(keyword)
	if n == 0 {
		b.WriteString(" {}")
		return
	}
	b.WriteString(" { ")
	for i := range n {
		if i > 0 {
			b.WriteString("; ")
		}
		item(i)
	}
	b.WriteString(" }")
}

// formatFloat renders a float so that parsing it gives the same value.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if !strings.ContainsAny(s, ".eIN") {
		s += "."
	}
	return s
}

// groupDigits inserts `_` every three digits from the right, as Candid
// tools print numbers ("1_234_567", "-1_000").
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	b.WriteString(sign)
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(s[:first])
	for i := first; i < len(s); i += 3 {
		b.WriteByte('_')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// quoteText writes a Candid text literal: printable characters as they
// are, the usual escapes, other control characters as \xx bytes.
func quoteText(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\` + hex2(byte(r)))
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteBlob writes a blob literal: printable ASCII as is, other bytes as
// \xx, so mostly-text blobs stay readable.
func quoteBlob(p []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range p {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			b.WriteByte('\\')
			b.WriteString(hex2(c))
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
