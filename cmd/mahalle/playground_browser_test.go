package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPath finds a Chromium-family browser; "" when there is none.
func browserPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startPlayground runs `mahalle` with no token on a free port and returns
// the page's URL once it answers.
func startPlayground(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	env := map[string]string{
		"PLAYGROUND_ADDR":    addr,
		"HTTP_ADDR":          "127.0.0.1:0",
		"SEND_RATE":          "10000",
		"SEND_RATE_PER_CHAT": "1000",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, testSystem(env, &out, &out)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("playground exit = %d\n%s", code, out.String())
			}
		case <-time.After(waitTimeout):
			t.Errorf("the playground did not stop\n%s", out.String())
		}
	})
	url := "http://" + addr + "/"
	deadline := time.Now().Add(waitTimeout)
	for {
		if resp, err := http.Get(url + "api/setup"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("the playground stopped with %d before answering:\n%s", code, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the playground did not answer at %s:\n%s", url, out.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a port: there is nothing to wait on
	}
	if !strings.Contains(out.String(), "PLAYGROUND") || !strings.Contains(out.String(), "TELEGRAM_TOKEN") {
		t.Errorf("the log does not say loudly that this is the playground and how to use a token:\n%s", out.String())
	}
	return url
}

// browserPage drives one tab of the playground page.
type browserPage struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	shot int
}

func (p *browserPage) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail("%v", err)
	}
}

// eval evaluates a JavaScript expression giving a string.
func (p *browserPage) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.fail("evaluate %s: %v", expr, err)
	}
	return s
}

func (p *browserPage) messages() string {
	s, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById('messages').innerText`))
	return s
}

func (p *browserPage) fail(format string, args ...any) {
	p.t.Helper()
	p.screenshot("failure")
	msgs := []rune(p.messages())
	if len(msgs) > 2500 {
		msgs = msgs[len(msgs)-2500:]
	}
	p.t.Fatalf(format+"\n--- the chat shows (end):\n%s", append(args, string(msgs))...)
}

// waitJS polls expr until it is true.
func (p *browserPage) waitJS(expr, what string) {
	p.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.fail("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // polling the page: the browser offers nothing to wait on here
	}
}

// see waits until the chat shows every text.
func (p *browserPage) see(texts ...string) {
	p.t.Helper()
	for _, text := range texts {
		q, _ := json.Marshal(text)
		p.waitJS(`document.getElementById('messages').innerText.includes(`+string(q)+`)`, fmt.Sprintf("%q in the chat", text))
	}
}

// say types text in the composer and sends it.
func (p *browserPage) say(text string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.ID("text"), text), chromedp.Click(chromedp.ID("send")))
}

// press clicks the newest inline button, or else the reply keyboard
// button, whose label contains label.
func (p *browserPage) press(label string) {
	p.t.Helper()
	q, _ := json.Marshal(label)
	p.waitJS(`((t) => {
		const inl = [...document.querySelectorAll('#messages .inline-btn')].reverse().find((b) => b.textContent.includes(t));
		const kb = [...document.querySelectorAll('#keyboard:not([hidden]) .kb-btn')].find((b) => b.textContent.includes(t));
		const b = inl || kb;
		if (!b) return false;
		b.click();
		return true;
	})(`+string(q)+`)`, fmt.Sprintf("a button %q", label))
}

// open shows persona's chat in this tab.
func (p *browserPage) open(url, persona string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url + "#" + persona))
	p.waitJS(`document.body.dataset.ready === 'true' && document.querySelector('.persona[aria-pressed=true]')?.dataset.persona === '`+persona+`'`, "the page to load as "+persona)
}

// screenshot saves the page as a PNG and checks it is not blank.
func (p *browserPage) screenshot(name string) string {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	p.shot++
	path := filepath.Join(p.dir, fmt.Sprintf("%02d-%s.png", p.shot, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		p.t.Errorf("screenshot %s is not a PNG: %v", name, err)
		return path
	}
	colours := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
		}
	}
	if len(colours) < 64 {
		p.t.Errorf("screenshot %s looks blank: %d distinct colours", name, len(colours))
	}
	p.t.Logf("screenshot %s: %d distinct colours", path, len(colours))
	return path
}

var suggestionCode = regexp.MustCompile(`S-[A-Z0-9]{5}`)

// TestPlaygroundInBrowser starts the playground as a newcomer would (no
// token) and walks it in a real Chromium: a resident's suggestion to its
// tracking code, a member joining by the contact button and reporting an
// action, the chair reading the demo actions, and the admin's menu while
// another persona's message arrives live.
func TestPlaygroundInBrowser(t *testing.T) {
	exe := browserPath()
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium found (chromium, chromium-browser, google-chrome): .ci/run installs Debian's chromium; the browser test cannot run")
		}
		t.Skip("no Chromium found (chromium, chromium-browser, google-chrome): install one, e.g. apt-get install -y chromium, to run the browser test")
	}
	dir := os.Getenv("TEST_OUTPUT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, "playground")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	url := startPlayground(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// A fake microphone, allowed without a prompt, so recording voice works headless.
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.WindowSize(1000, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	p := &browserPage{t: t, ctx: bctx, dir: dir}

	t.Run("resident suggestion", func(t *testing.T) {
		p.t = t
		p.open(url, "resident")
		dirAttr, lang := p.eval(`document.documentElement.dir`), p.eval(`document.documentElement.lang`)
		if dirAttr != "rtl" || lang != "fa" {
			t.Errorf("<html dir=%q lang=%q>, want rtl and fa", dirAttr, lang)
		}
		banner := p.eval(`document.getElementById('banner').innerText`)
		if !strings.Contains(banner, "زمین بازی") || !strings.Contains(banner, "TELEGRAM_TOKEN") {
			t.Errorf("the banner does not say this is the playground and how to use a token: %q", banner)
		}
		p.say("/start")
		p.see("خوش آمدید")
		p.press("ارسال پیشنهاد")
		p.see("کدام استان")
		p.press("مرکزی")
		p.see("کدام شهرستان")
		p.press("اراک")
		p.see("محله یا روستای خود")
		p.press("محله نمونه ۱ اراک")
		p.see("موضوع پیشنهاد")
		p.press("محیط زیست")
		p.see("پیشنهاد، شکایت یا نظر")
		p.say("درختان پارک محله هفته‌هاست آبیاری نشده‌اند")
		p.see("موقعیت آن را بفرستید")
		p.do(chromedp.Click(chromedp.ID("locate")))
		p.waitJS(`document.getElementById('locdlg').open`, "the location dialog")
		p.screenshot("resident-location-dialog")
		p.do(chromedp.Click(chromedp.Search(`//dialog//button[contains(., "محله نمونه ۱ اراک")]`)))
		p.see("تا ۳ عکس")
		photo := filepath.Join(t.TempDir(), "tree.png")
		if err := os.WriteFile(photo, testPNG(), 0o644); err != nil {
			t.Fatal(err)
		}
		p.do(chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
		p.waitJS(`document.querySelectorAll('#messages .bubble.user img').length === 1`, "the uploaded photo in the chat")
		p.waitJS(`document.querySelector('#messages .bubble:last-child').classList.contains('bot')`, "the bot's answer to the photo")
		p.screenshot("resident-photo")
		p.press("تمام")
		p.see("با نام شما")
		p.press("بی‌نام")
		p.see("خلاصهٔ «ارسال پیشنهاد»", "۱ عکس")
		p.press("تأیید و ارسال")
		p.see("کد پیگیری")
		code := suggestionCode.FindString(p.messages())
		if code == "" {
			p.fail("no tracking code shown")
		}
		p.screenshot("resident-suggestion")
		p.press("پیگیری پیشنهاد")
		p.see("کد پیگیری")
		p.say(code)
		p.see("در انتظار بررسی")
	})

	t.Run("member joins and reports", func(t *testing.T) {
		p.t = t
		p.open(url, "member")
		p.say("/start")
		p.press("عضو شورا هستم")
		p.waitJS(`[...document.querySelectorAll('#keyboard .kb-btn')].some((b) => b.textContent.includes('ارسال شمارهٔ من'))`, "the contact button")
		p.screenshot("member-contact-button")
		p.press("ارسال شمارهٔ من")
		p.see("زهرا کریمی", "عمران و خدمات محلی")
		p.say("/start")
		p.press("گزارش اقدام")
		p.see("در کدام کارگروه")
		p.press("کارگروه شما")
		p.see("برنامه")
		p.press("تمام")
		p.see("عنوان کوتاه")
		p.say("بازسازی نیمکت‌های پارک محله")
		p.say("ده نیمکت شکسته با کمک اهالی تعمیر و رنگ شد.")
		p.press("امروز")
		p.see("مرحله ۶ از ۱۱")
		p.press("رد کردن")
		p.see("مرحله ۷ از ۱۱")
		p.press("رد کردن")
		p.see("مرحله ۸ از ۱۱")
		p.say("۴۰")
		p.see("مرحله ۹ از ۱۱")
		p.press("رد کردن")
		p.see("مرحله ۱۱ از ۱۱")
		p.press("رد کردن")
		p.see("خلاصهٔ «گزارش اقدام»", "بازسازی نیمکت‌های پارک محله")
		p.press("تأیید و ارسال")
		p.see("کد پیگیری")
		p.screenshot("member-report")
	})

	t.Run("chair sees the demo actions", func(t *testing.T) {
		p.t = t
		p.open(url, "chair")
		p.say("/start")
		p.press("اقدام‌های شورا")
		p.see("تازه‌ترین اول", "نمونه: معاینه رایگان", "نمونه: پویش واکسیناسیون")
		p.press("نمونه: معاینه رایگان")
		p.see("۸۰ سالمند")
		p.screenshot("chair-demo-action")
	})

	t.Run("admin menu and a live message to another persona", func(t *testing.T) {
		p.t = t
		p.open(url, "admin")
		p.say("/start")
		p.see("خوش آمدید")
		p.waitJS(`[...document.querySelectorAll('#messages .inline-btn')].some((b) => b.textContent.includes('ارسال پیشنهاد'))`, "the admin's menu")
		// Another tab acts as the coordinator; its reply shows up live as
		// an unread badge in this one.
		resp, err := http.Post(url+"api/coordinator/text", "application/json", strings.NewReader(`{"text":"/start"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		p.waitJS(`Number(document.querySelector('.persona[data-persona=coordinator] .badge').textContent) >= 1`, "the coordinator's unread badge")
		p.screenshot("admin-menu-coordinator-badge")

		// A voice message recorded in the page reaches the bot as a voice.
		p.do(chromedp.Click(chromedp.ID("record")))
		p.waitJS(`document.getElementById('record').classList.contains('recording')`, "recording to start")
		p.do(chromedp.Click(chromedp.ID("record")))
		p.waitJS(`document.querySelectorAll('#messages .bubble.user audio').length === 1`, "the recorded voice in the chat")
		p.waitJS(`document.querySelector('#messages .bubble:last-child').classList.contains('bot')`, "the bot's answer to the voice")

		p.do(chromedp.Click(chromedp.CSS(`.persona[data-persona=coordinator]`)))
		p.waitJS(`document.getElementById('who').textContent.includes('هماهنگ‌کننده')`, "the coordinator's chat")
		p.see("خوش آمدید")
		if badge := p.eval(`document.querySelector('.persona[data-persona=coordinator] .badge').textContent`); badge != "" {
			t.Errorf("the coordinator's badge shows %q once their chat is open, want it cleared", badge)
		}
		p.screenshot("coordinator")
	})
}

// testPNG is a small picture with enough colours to be a photo.
func testPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(x*4), uint8(y*5), 120, 255
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
