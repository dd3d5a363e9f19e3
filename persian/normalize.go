package persian

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	zwnj    = '\u200C' // zero-width non-joiner: part of Persian spelling (می‌خواهم)
	zwj     = '\u200D' // zero-width joiner: kept only inside emoji sequences
	tatweel = '\u0640' // kashida, a stretching stroke with no meaning
	yeh     = '\u06CC' // Persian yeh ی
	kaf     = '\u06A9' // Persian kaf ک
)

// Normalize returns s as Mahalle stores and compares text. Every piece of
// text a person sends goes through it first.
//
//   - Arabic yeh ي (U+064A) and alef maksura ى (U+0649) become Persian yeh ی,
//     Arabic kaf ك (U+0643) becomes Persian kaf ک. Yeh with hamza ئ, teh
//     marbuta ة and heh with yeh ۀ are kept: they are real letters of Persian
//     spelling (مسئول، دائرةالمعارف، خانۀ) and only SearchKey folds them.
//     Arabic presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFF, left by text
//     copied out of old PDFs) of the letters Persian uses become the plain
//     letters.
//   - Digits are kept as typed (ASCII, Persian ۰–۹ or Arabic-Indic ٠–٩); the
//     parsers of this package read all three.
//   - Tatweel (U+0640), control characters (including NUL, which Postgres
//     rejects) and invisible format characters are removed: zero-width space,
//     the direction marks and embeddings that apps paste in (U+200E/F,
//     U+202A–U+202E, U+2066–U+2069, U+061C), U+FEFF, soft hyphen, and the
//     Hangul fillers used to send "blank" text.
//   - ZWNJ (U+200C) is kept once when it sits between two letters (a
//     combining mark counts as part of its letter); at a word's edge, next to
//     a space or digit, or repeated, it is dropped. ZWJ (U+200D) is kept only
//     between two emoji (👨‍👩‍👧), where it is part of the picture.
//   - Whitespace is trimmed at both ends. Inside, a run of whitespace becomes
//     one space, or, if it holds line breaks, one line break, or, if it holds
//     two or more, one blank line: paragraphs survive, indentation and
//     trailing spaces do not. NBSP and the other Unicode spaces count as
//     spaces; \r\n, \r, U+0085, U+2028 and U+2029 count as line breaks.
//   - An invalid UTF-8 byte becomes U+FFFD, so the result is always valid
//     UTF-8.
//
// Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s). When s
// is already normal it is returned as is, without allocating.
func Normalize(s string) string {
	n := normalizer{w: rewriter{src: s}, prev: -1, aheadEnd: -1}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case c > ' ' && c < 0x7F:
				j := i + 1
				for j < len(s) && s[j] > ' ' && s[j] < 0x7F {
					j++
				}
				n.emitASCII(s[i:j])
				i = j
				continue
			case c == '\n':
				n.pending = true
				n.newlines++
			case c == '\r':
				n.pending = true
				if i+1 == len(s) || s[i+1] != '\n' { // \r\n counts once, at the \n
					n.newlines++
				}
			case c == ' ' || c == '\t' || c == '\v' || c == '\f':
				n.pending = true
			default: // other C0 controls and DEL
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r >= 0x0606 && r <= 0x06FF && r != 0x061C && r != tatweel && r != 0x06DD:
			// The Arabic block without its format characters: the common
			// case of Persian text, kept off the slower Unicode tables.
			a, _ := mapLetter(r)
			n.emit(a)
		case r == zwnj:
			if !n.pending && isLetterOrMark(n.prev) && isLetterOrMark(n.lookahead(s, i)) {
				n.emit(r)
			}
		case r == zwj:
			if !n.pending && isEmojiBase(n.prev) && isEmoji(n.lookahead(s, i)) {
				n.emit(r)
			}
		case r == '\u0085' || r == '\u2028' || r == '\u2029':
			n.pending = true
			n.newlines++
		case unicode.IsSpace(r) || r == '\u2800':
			// U+2800 (Braille blank) looks like a space and is counted as one.
			n.pending = true
		case removable(r):
		default:
			a, b := mapLetter(r)
			n.emit(a)
			if b != 0 {
				n.emit(b)
			}
		}
	}
	return n.w.String()
}

// normalizer is the state of one Normalize call.
type normalizer struct {
	w        rewriter
	prev     rune // last rune written; -1 before the first
	pending  bool // whitespace seen since prev and not yet written
	newlines int  // line breaks in that whitespace
	// The next significant rune after a run of skippable ones, found once
	// per run so that a long run of ZWNJs stays linear.
	aheadEnd  int
	aheadRune rune
}

// flush writes the whitespace pending before the next rune: nothing at the
// start of the text, else one space, one line break or one blank line.
func (n *normalizer) flush() {
	if n.prev >= 0 {
		switch {
		case n.newlines >= 2:
			n.w.writeASCII('\n')
			n.w.writeASCII('\n')
		case n.newlines == 1:
			n.w.writeASCII('\n')
		default:
			n.w.writeASCII(' ')
		}
	}
	n.pending, n.newlines = false, 0
}

func (n *normalizer) emit(r rune) {
	if n.pending {
		n.flush()
	}
	n.w.writeRune(r)
	n.prev = r
}

// emitASCII writes a run of printable ASCII other than space.
func (n *normalizer) emitASCII(run string) {
	if n.pending {
		n.flush()
	}
	n.w.writeString(run)
	n.prev = rune(run[len(run)-1])
}

func (n *normalizer) lookahead(s string, i int) rune {
	if i <= n.aheadEnd {
		return n.aheadRune
	}
	n.aheadEnd, n.aheadRune = nextSignificant(s, i)
	return n.aheadRune
}

// nextSignificant finds the first rune at or after s[i:] that Normalize does
// not skip outright (removable characters, ZWNJ and ZWJ) and returns its
// position and the rune as Normalize would write it; len(s) and -1 when
// there is none.
func nextSignificant(s string, i int) (int, rune) {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == zwnj || r == zwj || (!unicode.IsSpace(r) && removable(r)) {
			i += size
			continue
		}
		a, _ := mapLetter(r)
		return i, a
	}
	return len(s), -1
}

// removable reports whether Normalize drops r wherever it stands. Whitespace
// is handled before this is asked.
func removable(r rune) bool {
	switch r {
	// Fillers that render as nothing: Hangul fillers, the combining
	// grapheme joiner, Khmer inherent vowels.
	case tatweel, '\u115F', '\u1160', '\u3164', '\uFFA0', '\u034F', '\u17B4', '\u17B5':
		return true
	case zwnj, zwj:
		return false
	}
	if r == utf8.RuneError {
		return false // an invalid byte is written as U+FFFD
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// isLetterOrMark reports whether r can sit on either side of a ZWNJ.
func isLetterOrMark(r rune) bool {
	return r >= 0 && (unicode.IsLetter(r) || unicode.IsMark(r))
}

// isEmoji reports whether r can follow a ZWJ in an emoji sequence.
func isEmoji(r rune) bool {
	return r >= 0 && unicode.Is(unicode.So, r)
}

// isEmojiBase reports whether r can precede a ZWJ in an emoji sequence: an
// emoji, a skin-tone modifier or the emoji variation selector.
func isEmojiBase(r rune) bool {
	return r == '\uFE0F' || (r >= 0 && (unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r)))
}

// mapLetter returns what Normalize writes for r: itself, or the Persian
// letter it stands for (two letters for a lam-alef ligature, else b is 0).
func mapLetter(r rune) (a, b rune) {
	switch {
	case r < 0x0643:
		return r, 0
	case r == 0x0643:
		return kaf, 0
	case r == 0x0649 || r == 0x064A:
		return yeh, 0
	case r < 0xFB50:
		return r, 0
	case r >= 0xFEF5 && r <= 0xFEFC:
		return '\u0644', lamAlef[(r-0xFEF5)/2]
	}
	for _, f := range presentationForms {
		if r >= f.lo && r <= f.hi {
			return f.to, 0
		}
	}
	return r, 0
}

// lamAlef holds the alef of each lam-alef ligature U+FEF5–U+FEFC (two forms
// each): لآ لأ لإ لا.
var lamAlef = [4]rune{'\u0622', '\u0623', '\u0625', '\u0627'}

// presentationForms maps the Arabic presentation forms of the letters used
// in Persian to the letters themselves, already in Persian form (ك and ي
// forms go straight to ک and ی).
var presentationForms = [...]struct{ lo, hi, to rune }{
	{0xFB56, 0xFB59, '\u067E'}, // پ
	{0xFB7A, 0xFB7D, '\u0686'}, // چ
	{0xFB8A, 0xFB8B, '\u0698'}, // ژ
	{0xFB8E, 0xFB91, kaf},      // ک
	{0xFB92, 0xFB95, '\u06AF'}, // گ
	{0xFBA4, 0xFBA5, '\u06C0'}, // ۀ
	{0xFBFC, 0xFBFF, yeh},      // ی
	{0xFE80, 0xFE80, '\u0621'}, // ء
	{0xFE81, 0xFE82, '\u0622'}, // آ
	{0xFE83, 0xFE84, '\u0623'}, // أ
	{0xFE85, 0xFE86, '\u0624'}, // ؤ
	{0xFE87, 0xFE88, '\u0625'}, // إ
	{0xFE89, 0xFE8C, '\u0626'}, // ئ
	{0xFE8D, 0xFE8E, '\u0627'}, // ا
	{0xFE8F, 0xFE92, '\u0628'}, // ب
	{0xFE93, 0xFE94, '\u0629'}, // ة
	{0xFE95, 0xFE98, '\u062A'}, // ت
	{0xFE99, 0xFE9C, '\u062B'}, // ث
	{0xFE9D, 0xFEA0, '\u062C'}, // ج
	{0xFEA1, 0xFEA4, '\u062D'}, // ح
	{0xFEA5, 0xFEA8, '\u062E'}, // خ
	{0xFEA9, 0xFEAA, '\u062F'}, // د
	{0xFEAB, 0xFEAC, '\u0630'}, // ذ
	{0xFEAD, 0xFEAE, '\u0631'}, // ر
	{0xFEAF, 0xFEB0, '\u0632'}, // ز
	{0xFEB1, 0xFEB4, '\u0633'}, // س
	{0xFEB5, 0xFEB8, '\u0634'}, // ش
	{0xFEB9, 0xFEBC, '\u0635'}, // ص
	{0xFEBD, 0xFEC0, '\u0636'}, // ض
	{0xFEC1, 0xFEC4, '\u0637'}, // ط
	{0xFEC5, 0xFEC8, '\u0638'}, // ظ
	{0xFEC9, 0xFECC, '\u0639'}, // ع
	{0xFECD, 0xFED0, '\u063A'}, // غ
	{0xFED1, 0xFED4, '\u0641'}, // ف
	{0xFED5, 0xFED8, '\u0642'}, // ق
	{0xFED9, 0xFEDC, kaf},      // ك
	{0xFEDD, 0xFEE0, '\u0644'}, // ل
	{0xFEE1, 0xFEE4, '\u0645'}, // م
	{0xFEE5, 0xFEE8, '\u0646'}, // ن
	{0xFEE9, 0xFEEC, '\u0647'}, // ه
	{0xFEED, 0xFEEE, '\u0648'}, // و
	{0xFEEF, 0xFEF0, yeh},      // ى
	{0xFEF1, 0xFEF4, yeh},      // ي
}

// rewriter builds a string that usually equals a prefix of src, and only
// allocates from the first rune where it differs.
type rewriter struct {
	src   string
	n     int    // bytes of src the result has matched, until it diverges
	buf   []byte // the result, once it has diverged from src
	moved bool   // whether it has diverged
}

func (w *rewriter) writeASCII(c byte) {
	if !w.moved {
		if w.n < len(w.src) && w.src[w.n] == c {
			w.n++
			return
		}
		w.diverge()
	}
	w.buf = append(w.buf, c)
}

// writeString writes s, which holds no rune that Normalize changes.
func (w *rewriter) writeString(s string) {
	if !w.moved {
		if strings.HasPrefix(w.src[w.n:], s) {
			w.n += len(s)
			return
		}
		w.diverge()
	}
	w.buf = append(w.buf, s...)
}

func (w *rewriter) writeRune(r rune) {
	if r < utf8.RuneSelf {
		w.writeASCII(byte(r))
		return
	}
	if !w.moved {
		got, size := utf8.DecodeRuneInString(w.src[w.n:])
		if got == r && size == utf8.RuneLen(r) {
			w.n += size
			return
		}
		w.diverge()
	}
	w.buf = utf8.AppendRune(w.buf, r)
}

func (w *rewriter) diverge() {
	w.moved = true
	w.buf = make([]byte, w.n, len(w.src)+utf8.UTFMax)
	copy(w.buf, w.src[:w.n])
}

func (w *rewriter) String() string {
	if !w.moved {
		return w.src[:w.n]
	}
	return string(w.buf)
}

// SearchKey returns the form of s used for "contains" search, e.g. finding a
// neighbourhood by part of its name: both the stored name and the query go
// through it. It normalises s and then drops what people type
// inconsistently: spaces, line breaks, ZWNJ and ZWJ, punctuation (so % and
// _ never reach a LIKE pattern), and combining marks (harakat, hamza above,
// superscript alef, variation selectors). It folds آ أ إ ٱ to ا, ؤ to و,
// ة ۀ ە ہ to ه, Persian and Arabic-Indic digits to ASCII, and lower-cases
// letters (Latin has case; Persian has none). It never fails.
func SearchKey(s string) string {
	s = Normalize(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == zwnj || r == zwj || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsMark(r):
			continue
		case r == '\u0622' || r == '\u0623' || r == '\u0625' || r == '\u0671':
			r = '\u0627'
		case r == '\u0624':
			r = '\u0648'
		case r == '\u0629' || r == '\u06C0' || r == '\u06D5' || r == '\u06C1':
			r = '\u0647'
		default:
			if d, ok := digitValue(r); ok {
				r = '0' + rune(d)
			} else {
				r = unicode.ToLower(r)
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
