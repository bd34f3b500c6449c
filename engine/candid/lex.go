package candid

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind classifies the tokens of Candid text (values and .did files
// share one lexer).
type tokKind int

const (
	tokEOF    tokKind = iota
	tokIdent          // identifiers and keywords
	tokNumber         // number literals, sign and `_` included
	tokText           // string literals, unescaped into tok.text
	tokPunct          // one of ( ) { } ; , = : . and the arrow ->
)

type token struct {
	kind tokKind
	text string // identifier, number, punctuation or unescaped string bytes
	pos  int    // byte offset in the source, for error messages
}

// lexer splits Candid text into tokens on demand, with one token of
// lookahead; mark and reset give the parsers more where they need it.
type lexer struct {
	src    string
	pos    int
	peek   token
	peeked bool
}

// lexState is a position to return to.
type lexState struct {
	pos    int
	peek   token
	peeked bool
}

func (l *lexer) mark() lexState { return lexState{l.pos, l.peek, l.peeked} }

func (l *lexer) reset(s lexState) { l.pos, l.peek, l.peeked = s.pos, s.peek, s.peeked }

func (l *lexer) errAt(pos int, format string, args ...any) error {
	line := 1 + strings.Count(l.src[:min(pos, len(l.src))], "\n")
	col := pos - strings.LastIndex(l.src[:min(pos, len(l.src))], "\n")
	return fmt.Errorf("line %d column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if l.peeked {
		l.peeked = false
		return l.peek, nil
	}
	return l.scan()
}

// look returns the next token without consuming it.
func (l *lexer) look() (token, error) {
	if !l.peeked {
		t, err := l.scan()
		if err != nil {
			return t, err
		}
		l.peek, l.peeked = t, true
	}
	return l.peek, nil
}

func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "//"):
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += end + 1
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			start := l.pos
			depth := 0
			for l.pos < len(l.src) {
				if strings.HasPrefix(l.src[l.pos:], "/*") {
					depth++
					l.pos += 2
				} else if strings.HasPrefix(l.src[l.pos:], "*/") {
					depth--
					l.pos += 2
					if depth == 0 {
						break
					}
				} else {
					l.pos++
				}
			}
			if depth != 0 {
				return l.errAt(start, "unterminated comment")
			}
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) scan() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '-' && strings.HasPrefix(l.src[l.pos:], "->"):
		l.pos += 2
		return token{kind: tokPunct, text: "->", pos: start}, nil
	case strings.IndexByte("(){};,=:.", c) >= 0:
		l.pos++
		return token{kind: tokPunct, text: string(c), pos: start}, nil
	case c == '"':
		s, err := l.stringLit()
		return token{kind: tokText, text: s, pos: start}, err
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		l.pos++
		for l.pos < len(l.src) && isNumByte(l.src[l.pos], l.src[l.pos-1]) {
			l.pos++
		}
		return token{kind: tokNumber, text: l.src[start:l.pos], pos: start}, nil
	case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		for l.pos < len(l.src) {
			c := l.src[l.pos]
			if c != '_' && !(c|0x20 >= 'a' && c|0x20 <= 'z') && !(c >= '0' && c <= '9') {
				break
			}
			l.pos++
		}
		return token{kind: tokIdent, text: l.src[start:l.pos], pos: start}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, l.errAt(start, "unexpected character %q", r)
}

// isNumByte reports whether c continues a number literal whose previous
// byte is prev: digits, `_`, hex digits after 0x, a decimal point, an
// exponent and its sign.
func isNumByte(c, prev byte) bool {
	switch {
	case c >= '0' && c <= '9', c == '_', c == '.':
		return true
	case c|0x20 >= 'a' && c|0x20 <= 'f', c == 'x' || c == 'X':
		return true
	case (c == '+' || c == '-') && (prev == 'e' || prev == 'E'):
		return true
	}
	return false
}

// stringLit reads a quoted literal and returns its bytes. Candid allows
// \xx byte escapes that need not form UTF-8 (for blobs), so the result is
// raw bytes; callers of text check validity.
func (l *lexer) stringLit() (string, error) {
	start := l.pos
	l.pos++ // opening quote
	var b strings.Builder
	for {
		if l.pos >= len(l.src) {
			return "", l.errAt(start, "unterminated string")
		}
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.pos++
			return b.String(), nil
		case c == '\\':
			if err := l.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
}

func (l *lexer) escape(b *strings.Builder) error {
	start := l.pos
	l.pos++ // backslash
	if l.pos >= len(l.src) {
		return l.errAt(start, "unterminated escape")
	}
	c := l.src[l.pos]
	l.pos++
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '\\', '"', '\'':
		b.WriteByte(c)
	case 'u':
		end := strings.IndexByte(l.src[l.pos:], '}')
		if !strings.HasPrefix(l.src[l.pos:], "{") || end < 0 {
			return l.errAt(start, `bad unicode escape, want \u{hex}`)
		}
		digits := strings.ReplaceAll(l.src[l.pos+1:l.pos+end], "_", "")
		r, err := strconv.ParseUint(digits, 16, 32)
		if err != nil || !utf8.ValidRune(rune(r)) {
			return l.errAt(start, "bad unicode escape %q", l.src[start:l.pos+end+1])
		}
		b.WriteRune(rune(r))
		l.pos += end + 1
	default:
		if l.pos >= len(l.src) {
			return l.errAt(start, "unterminated escape")
		}
		v, err := strconv.ParseUint(l.src[l.pos-1:l.pos+1], 16, 8)
		if err != nil {
			return l.errAt(start, "unknown escape %q", l.src[start:l.pos+1])
		}
		b.WriteByte(byte(v))
		l.pos++
	}
	return nil
}

// expect consumes a punctuation token or keyword and fails otherwise.
func (l *lexer) expect(text string) error {
	t, err := l.next()
	if err != nil {
		return err
	}
	if (t.kind != tokPunct && t.kind != tokIdent) || t.text != text {
		return l.errAt(t.pos, "want %q, got %s", text, describe(t))
	}
	return nil
}

// accept consumes the token if it is the given punctuation or keyword.
func (l *lexer) accept(text string) (bool, error) {
	t, err := l.look()
	if err != nil {
		return false, err
	}
	if (t.kind == tokPunct || t.kind == tokIdent) && t.text == text {
		l.peeked = false
		return true, nil
	}
	return false, nil
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokText:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}
