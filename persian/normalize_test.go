package persian

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii unchanged", "hello world", "hello world"},
		{"persian unchanged", "سلام، وقت بخیر", "سلام، وقت بخیر"},
		{"arabic yeh and kaf", "كيف شما خوبي", "کیف شما خوبی"},
		{"alef maksura", "مصطفى", "مصطفی"},
		{"arabic keyboard word", "ارديبهشت", "اردیبهشت"},
		{"yeh with hamza kept", "مسئول", "مسئول"},
		{"teh marbuta kept", "دائرةالمعارف", "دائرةالمعارف"},
		{"heh with yeh kept", "خانۀ ما", "خانۀ ما"},
		{"digits kept as typed", "محله ۱۲ و ١٢ و 12", "محله ۱۲ و ١٢ و 12"},
		{"tatweel removed", "سـلام و هـ.ش", "سلام و ه.ش"},
		{"zwnj between letters kept", "می‌خواهم", "می‌خواهم"},
		{"zwnj plural kept", "خانه‌ها", "خانه‌ها"},
		{"zwnj after a harakat kept", "میِ‌خواهم", "میِ‌خواهم"},
		{"zwnj doubled", "می\u200c\u200cخواهم", "می‌خواهم"},
		{"zwnj at word end", "خانه\u200c ها", "خانه ها"},
		{"zwnj at word start", "\u200cخانه", "خانه"},
		{"zwnj at end of text", "خانه\u200c", "خانه"},
		{"zwnj before digit", "محله\u200c۱۲", "محله۱۲"},
		{"zwnj across a removed mark", "می\u200e\u200cخواهم", "می‌خواهم"},
		{"zwnj then rlm then letter", "می\u200c\u200fخواهم", "می‌خواهم"},
		{"rlm pasted from another app", "\u200fسلام\u200f", "سلام"},
		{"lrm around a number", "تلفن: \u200e0912 345 6789\u200e", "تلفن: 0912 345 6789"},
		{"bidi embeddings and isolates", "\u202bمتن\u202c \u2067متن\u2069 \u202aabc\u202c \u2066x\u2069 \u202dy\u202e", "متن متن abc x y"},
		{"arabic letter mark", "\u061cسلام", "سلام"},
		{"zero width space", "سلام\u200bدنیا", "سلامدنیا"},
		{"bom", "\ufeffسلام", "سلام"},
		{"braille blanks only", "\u2800\u2800\u2800\u2800\u2800\u2800\u2800\u2800\u2800\u2800", ""},
		{"braille blank as a space", "\u2800سلام\u2800\u2800دنیا\u2800", "سلام دنیا"},
		{"hangul fillers only", "\u3164\u115F\u1160\uFFA0", ""},
		{"combining grapheme joiner and khmer inherent vowels", "\u034F\u17B4\u17B5", ""},
		{"soft hyphen", "inter\u00adnational", "international"},
		{"nul and controls", "a\x00b\x1bc\x7fd", "abcd"},
		{"zwj between letters removed", "ه\u200d.ش", "ه.ش"},
		{"zwj in emoji kept", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"zwj after variation selector kept", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		{"zwj after skin tone kept", "👩🏽\u200d💻", "👩🏽\u200d💻"},
		{"zwj doubled in emoji", "👨\u200d\u200d👩", "👨\u200d👩"},
		{"zwj at emoji edge", "👨\u200d سلام", "👨 سلام"},
		{"trim", "  \t سلام \n ", "سلام"},
		{"collapse spaces", "سلام    دنیا\t\tخوب", "سلام دنیا خوب"},
		{"nbsp and thin spaces", "۱۲\u00a0۵۰۰ و a\u2009b\u202fc", "۱۲ ۵۰۰ و a b c"},
		{"single newline kept", "خط یک  \n  خط دو", "خط یک\nخط دو"},
		{"blank line kept once", "بند یک\n\n\n\nبند دو", "بند یک\n\nبند دو"},
		{"crlf", "یک\r\nدو\r\n\r\nسه", "یک\nدو\n\nسه"},
		{"lone cr", "یک\rدو", "یک\nدو"},
		{"unicode line separators", "یک\u2028دو\u2029سه\u0085چهار", "یک\nدو\nسه\nچهار"},
		{"hangul filler blank", "\u3164", ""},
		{"only whitespace and marks", " \u200f\u200c\t\n", ""},
		{"presentation forms", "\ufee3\ufea4\ufee0\ufeea", "محله"},
		{"presentation lam alef", "\ufefb\ufef5", "لالآ"},
		{"presentation persian letters", "\ufb58\ufb7c\ufb8a\ufb90\ufb94\ufbfe", "پچژکگی"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"keyboard mix", "  من  مي‌خواهم   گزارش  بدهم ، لطفاً  ", "من می‌خواهم گزارش بدهم ، لطفاً"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.in)
			if got != tt.want {
				t.Errorf("Normalize(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
			if again := Normalize(got); again != got {
				t.Errorf("Normalize not idempotent: %+q -> %+q", got, again)
			}
		})
	}
}

func TestNormalizeNoAllocWhenNormal(t *testing.T) {
	for _, s := range []string{
		"hello world",
		"سلام، من می‌خواهم گزارش کارهای محله را ثبت کنم.",
		"خط یک\nخط دو\n\nبند سه ۱۲۳",
		"👨\u200d👩\u200d👧 خانواده",
	} {
		if got := Normalize(s); got != s {
			t.Fatalf("Normalize(%+q) = %+q, want it unchanged", s, got)
		}
		if n := testing.AllocsPerRun(100, func() { _ = Normalize(s) }); n != 0 {
			t.Errorf("Normalize(%+q) allocates %v times, want 0", s, n)
		}
	}
	// Trimming only the end needs no copy either.
	if n := testing.AllocsPerRun(100, func() { _ = Normalize("سلام  \n") }); n != 0 {
		t.Errorf("Normalize with trailing space allocates %v times, want 0", n)
	}
}

func TestSearchKey(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"arabic and persian yeh match", "علي آباد", "علیاباد"},
		{"zwnj and spaces dropped", "شهرک‌ ولی‌عصر", "شهرکولیعصر"},
		{"madda folded", "آذر", "اذر"},
		{"hamza forms folded", "أحمد إمام مؤمن", "احمداماممومن"},
		{"teh marbuta and heh yeh", "مدرسة خانۀ", "مدرسهخانه"},
		{"harakat dropped", "مُحَمَّد", "محمد"},
		{"punctuation dropped", "محله (۱۲)، فاز-۲ 50%_off", "محله12فاز250off"},
		{"latin lower-cased", "Vanak SQUARE", "vanaksquare"},
		{"digits to ascii", "فاز ۲ و ٣", "فاز2و3"},
		{"empty", "  \u200f ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SearchKey(tt.in); got != tt.want {
				t.Errorf("SearchKey(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSearchKeyContains(t *testing.T) {
	stored := SearchKey("محله‌ی شهید بهشتی (ولی‌عصر)")
	for _, query := range []string{"شهيد بهشتي", "ولیعصر", "ولی عصر", "بهشتی", "محلهی شهید"} {
		if !strings.Contains(stored, SearchKey(query)) {
			t.Errorf("SearchKey(%q) not found in %q", query, stored)
		}
	}
}

var benchInputs = []struct{ name, s string }{
	{"ascii", "I would like to report the cleaning of the park on Friday morning."},
	{"persian", "سلام، من می‌خواهم گزارش پاکسازی پارک محله را در روز جمعه ثبت کنم. ۱۲ نفر شرکت کردند."},
	{"needs_work", "  سلام،  من مي‌خواهم گزارش پاکسازي پارک محله را در روز جمعه ثبت كنم.\u200f ۱۲ نفر شرکت کردند. "},
}

func BenchmarkNormalize(b *testing.B) {
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.s)))
			for b.Loop() {
				_ = Normalize(in.s)
			}
		})
	}
}
