// Package qrcard draws a printable card for a place: the QR code of its deep
// link, with its Persian name (and a second line, such as the county) under
// it, shaped right to left with joined letters, for a council to post on a
// notice board or in a mosque.
//
// The text is set in Vazirmatn Bold (fonts/Vazirmatn-Bold.ttf, version
// 33.0.3, © The Vazirmatn Project Authors, SIL Open Font License 1.1, see
// fonts/OFL.txt), shaped with go-text/typesetting (HarfBuzz's rules in Go)
// and drawn with golang.org/x/image/vector.
package qrcard

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"sync"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

//go:embed fonts/Vazirmatn-Bold.ttf
var vazirmatnBold []byte

// Card is what a card shows.
type Card struct {
	Link     string // encoded in the QR code, e.g. https://t.me/<bot>?start=p42
	Title    string // the place's name, in Persian, under the code
	Subtitle string // a smaller second line, e.g. «شهرستان اراک، استان مرکزی»; may be empty
}

// Layout, in pixels.
const (
	targetWidth = 900 // the QR code is drawn with whole pixels per module, as close to this as fits
	margin      = 40  // around the text
	titleSize   = 64  // the name's font size, shrunk to fit the width
	subSize     = 36  // the second line's
	minTextSize = 20
)

var (
	ink   = color.Gray{Y: 0x00}
	grey  = color.Gray{Y: 0x55}
	paper = color.Gray{Y: 0xFF}
)

// ErrEmpty is returned when a card has no link or no title.
var ErrEmpty = errors.New("qrcard: a card needs a link and a title")

// PNG draws the card as a PNG: the QR code (error correction level M, with
// its quiet zone) on white, then the title and the subtitle centred under
// it, each shrunk to fit the width. Returns ErrEmpty when the link or the
// title is empty, and an error when the link is too long for a QR code.
func PNG(c Card) ([]byte, error) {
	c.Title, c.Subtitle = strings.TrimSpace(c.Title), strings.TrimSpace(c.Subtitle)
	if c.Link == "" || c.Title == "" {
		return nil, ErrEmpty
	}
	q, err := qrcode.New(c.Link, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qrcard: %w", err)
	}
	bits := q.Bitmap() // with the 4-module quiet zone
	module := max(4, targetWidth/len(bits))
	width := module * len(bits)

	face, err := vazirmatn()
	if err != nil {
		return nil, err
	}
	titles := fitTitle(face, c.Title, width-2*margin)
	var sub line
	if c.Subtitle != "" {
		sub = fitLine(face, c.Subtitle, subSize, width-2*margin)
	}
	height := width + margin
	for _, t := range titles {
		height += t.height()
	}
	if c.Subtitle != "" {
		height += sub.height() + margin/2
	}

	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)
	for y, row := range bits {
		for x, on := range row {
			if on {
				draw.Draw(img, image.Rect(x*module, y*module, (x+1)*module, (y+1)*module), image.NewUniform(ink), image.Point{}, draw.Src)
			}
		}
	}
	top := width // the quiet zone under the code is the gap before the text
	for _, t := range titles {
		t.draw(img, face, (width-t.width())/2, top+t.ascent(), ink)
		top += t.height()
	}
	if c.Subtitle != "" {
		top += margin / 2
		sub.draw(img, face, (width-sub.width())/2, top+sub.ascent(), grey)
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qrcard: %w", err)
	}
	return buf.Bytes(), nil
}

// vazirmatn parses the embedded font once.
// faceMu guards the shared face, which caches as it shapes and draws.
var faceMu sync.Mutex

var vazirmatn = sync.OnceValues(func() (*font.Face, error) {
	f, err := font.ParseTTF(bytes.NewReader(vazirmatnBold))
	if err != nil {
		return nil, fmt.Errorf("qrcard: font: %w", err)
	}
	return f, nil
})

// oneFace resolves every rune to the one embedded face.
type oneFace struct{ f *font.Face }

func (o oneFace) ResolveFace(rune) *font.Face { return o.f }

// line is a line of text shaped at one size, its runs in visual order
// (left to right).
type line struct {
	size fixed.Int26_6
	runs []shaping.Output
}

// shapeLine shapes text as a right-to-left paragraph: the bidi algorithm
// splits it into runs (Persian right to left, digits and Latin left to
// right), each is shaped (Persian letters take their joined forms), and the
// runs are put in visual order.
func shapeLine(face *font.Face, text string, size int) line {
	// The face keeps glyph caches that are not safe for concurrent use.
	faceMu.Lock()
	defer faceMu.Unlock()
	runes := []rune(text)
	in := shaping.Input{
		Text: runes, RunStart: 0, RunEnd: len(runes),
		Direction: di.DirectionRTL, Face: face, Size: fixed.I(size),
		Script: language.Arabic, Language: language.NewLanguage("fa"),
	}
	var seg shaping.Segmenter
	var shaper shaping.HarfbuzzShaper
	runs := seg.Split(in, oneFace{face})
	l := line{size: fixed.I(size)}
	// In a right-to-left paragraph every run is at level 1 (RTL) or 2 (LTR
	// inside it), so the runs' visual order is their logical order reversed;
	// the shaper orders the glyphs within each run.
	for i := len(runs) - 1; i >= 0; i-- {
		l.runs = append(l.runs, shaper.Shape(runs[i]))
	}
	return l
}

// fitTitle shapes the title on one line, or, when that would need a size
// under two thirds of titleSize, on two lines split at the space that
// balances them best (the first line holds the name's beginning).
func fitTitle(face *font.Face, text string, maxWidth int) []line {
	one := fitLine(face, text, titleSize, maxWidth)
	words := strings.Fields(text)
	if one.size >= fixed.I(titleSize*2/3) || len(words) < 2 {
		return []line{one}
	}
	bestSize, bestSplit := fixed.Int26_6(0), 0
	for i := 1; i < len(words); i++ {
		a := fitLine(face, strings.Join(words[:i], " "), titleSize, maxWidth)
		b := fitLine(face, strings.Join(words[i:], " "), titleSize, maxWidth)
		if size := min(a.size, b.size); size > bestSize {
			bestSize, bestSplit = size, i
		}
	}
	if bestSize <= one.size {
		return []line{one}
	}
	// Both lines at the smaller size, so they read as one name.
	return []line{
		shapeLine(face, strings.Join(words[:bestSplit], " "), bestSize.Round()),
		shapeLine(face, strings.Join(words[bestSplit:], " "), bestSize.Round()),
	}
}

// fitLine shapes text at size, or smaller until it fits in maxWidth.
func fitLine(face *font.Face, text string, size, maxWidth int) line {
	for {
		l := shapeLine(face, text, size)
		if l.width() <= maxWidth || size <= minTextSize {
			return l
		}
		size = max(minTextSize, size*9/10)
	}
}

func (l line) width() int {
	var w fixed.Int26_6
	for _, r := range l.runs {
		w += r.Advance
	}
	return w.Ceil()
}

func (l line) ascent() int {
	if len(l.runs) == 0 {
		return 0
	}
	return l.runs[0].LineBounds.Ascent.Ceil()
}

func (l line) height() int {
	if len(l.runs) == 0 {
		return 0
	}
	b := l.runs[0].LineBounds
	return (b.Ascent - b.Descent + b.Gap).Ceil()
}

// draw fills the line's glyph outlines in c, starting at x with the
// baseline at y.
func (l line) draw(img draw.Image, face *font.Face, x, y int, c color.Color) {
	faceMu.Lock()
	defer faceMu.Unlock()
	b := img.Bounds()
	r := vector.NewRasterizer(b.Dx(), b.Dy())
	scale := float32(l.size) / 64 / float32(face.Upem())
	pen := float32(x)
	for _, run := range l.runs {
		for _, g := range run.Glyphs {
			gx := pen + float32(g.XOffset)/64
			gy := float32(y) - float32(g.YOffset)/64
			if outline, ok := face.GlyphData(g.GlyphID).(font.GlyphOutline); ok {
				drawOutline(r, outline, gx, gy, scale)
			}
			pen += float32(g.Advance) / 64
		}
	}
	r.Draw(img, b, image.NewUniform(c), image.Point{})
}

// drawOutline adds a glyph outline (font units, y up) to r at (x, y).
func drawOutline(r *vector.Rasterizer, o font.GlyphOutline, x, y, scale float32) {
	pt := func(p ot.SegmentPoint) (float32, float32) { return x + p.X*scale, y - p.Y*scale }
	open := false
	for _, s := range o.Segments {
		switch s.Op {
		case ot.SegmentOpMoveTo:
			if open {
				r.ClosePath()
			}
			r.MoveTo(pt(s.Args[0]))
			open = true
		case ot.SegmentOpLineTo:
			r.LineTo(pt(s.Args[0]))
		case ot.SegmentOpQuadTo:
			bx, by := pt(s.Args[0])
			cx, cy := pt(s.Args[1])
			r.QuadTo(bx, by, cx, cy)
		case ot.SegmentOpCubeTo:
			bx, by := pt(s.Args[0])
			cx, cy := pt(s.Args[1])
			dx, dy := pt(s.Args[2])
			r.CubeTo(bx, by, cx, cy, dx, dy)
		}
	}
	if open {
		r.ClosePath()
	}
}
