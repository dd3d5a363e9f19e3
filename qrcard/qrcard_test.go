package qrcard

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads the QR code in img back to its text.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}

func TestPNG(t *testing.T) {
	t.Parallel()
	tests := []Card{
		{Link: "https://t.me/mahalle_bot?start=p42", Title: "محله نمونه ۱ اراک", Subtitle: "شهرستان اراک، استان مرکزی"},
		{Link: "https://ble.ir/mahalle_bot?start=p1234567", Title: "کوی شهید بهشتی (بلوار ۱۲ فروردین) — روستای چشمه‌علی و دشت‌های اطراف آن"},
	}
	for _, c := range tests {
		b, err := PNG(c)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		size := img.Bounds().Size()
		if size.X < 800 || size.X > 1000 || size.Y <= size.X {
			t.Errorf("card is %v, want 800–1000 wide and taller than wide (text under the code)", size)
		}
		if got := decodeQR(t, img); got != c.Link {
			t.Errorf("QR code reads %q, want %q", got, c.Link)
		}
		// Ink under the code: the name was drawn, inside the card.
		inked, outside := 0, 0
		for y := size.X; y < size.Y; y++ {
			for x := 0; x < size.X; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					inked++
					if x < margin/2 || x >= size.X-margin/2 {
						outside++
					}
				}
			}
		}
		if inked < 500 || outside > 0 {
			t.Errorf("text under the code: %d dark pixels, %d in the side margins; want some, none", inked, outside)
		}
		if dir := os.Getenv("QRCARD_OUT"); dir != "" { // to look at the card
			if err := os.WriteFile(dir+"/"+c.Link[len(c.Link)-3:]+".png", b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := PNG(Card{Link: "https://t.me/x?start=p1"}); !errors.Is(err, ErrEmpty) {
		t.Errorf("PNG without a title: %v, want ErrEmpty", err)
	}
}

// TestShapeJoinsAndOrdersRightToLeft checks what makes Persian readable:
// letters take their joined forms, the first letter is drawn rightmost, and
// a number inside keeps its digits left to right.
func TestShapeJoinsAndOrdersRightToLeft(t *testing.T) {
	t.Parallel()
	face, err := vazirmatn()
	if err != nil {
		t.Fatal(err)
	}
	glyphs := func(text string) []shaping0 {
		var gs []shaping0
		for _, r := range shapeLine(face, text, 40).runs {
			for _, g := range r.Glyphs {
				gs = append(gs, shaping0{gid: uint32(g.GlyphID), cluster: g.ClusterIndex})
			}
		}
		return gs
	}
	alone := glyphs("م")[0].gid
	joined := glyphs("مم") // initial م then final م
	if len(joined) != 2 || joined[0].gid == alone || joined[1].gid == alone || joined[0].gid == joined[1].gid {
		t.Errorf("«مم» shaped to %v; want two different joined forms, neither the isolated %d", joined, alone)
	}
	// Visual order, left to right: the last letter first.
	if gs := glyphs("با"); len(gs) != 2 || gs[0].cluster != 1 || gs[1].cluster != 0 {
		t.Errorf("«با» glyph clusters left to right = %v, want 1 then 0", gs)
	}
	// «محله ۱۲»: the number is at the left, its digits in order ۱ then ۲.
	gs := glyphs("محله ۱۲")
	if len(gs) < 3 || gs[0].cluster != 5 || gs[1].cluster != 6 {
		t.Errorf("«محله ۱۲» glyph clusters left to right = %v, want 5, 6 (۱۲) first", gs)
	}
}

type shaping0 struct {
	gid     uint32
	cluster int
}
