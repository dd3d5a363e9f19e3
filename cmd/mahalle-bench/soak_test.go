package main

import (
	"testing"
	"time"
)

func TestFlowOfText(t *testing.T) {
	tests := []struct {
		text       string
		idx, round int
		ok         bool
	}{
		{"جوی آب کوچهٔ شمارهٔ 17 پر از زباله است؛ لطفاً رسیدگی کنید. (دور 3)", 17, 3, true},
		{"جوی آب کوچهٔ شمارهٔ ۱۷ پر از زباله است؛ لطفاً رسیدگی کنید. (دور ۱۲)", 17, 12, true},
		{"سطل زباله پر است", 0, 0, false},
	}
	for _, tt := range tests {
		idx, round, ok := flowOfText(tt.text)
		if idx != tt.idx || round != tt.round || ok != tt.ok {
			t.Errorf("flowOfText(%q) = %d, %d, %v; want %d, %d, %v", tt.text, idx, round, ok, tt.idx, tt.round, tt.ok)
		}
	}
}

func TestSoakDefaults(t *testing.T) {
	o, err := parseFlags([]string{"-soak"}, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.residents != 500 || o.duration != 10*time.Minute || !o.tgLimits || o.fail5xx != 0.05 || o.timeout < o.duration {
		t.Errorf("-soak = %+v, want 500 residents for 10m under -tglimits and 5 %% 5xx", o)
	}
	o, err = parseFlags([]string{"-soak", "-duration", "1m", "-residents", "50", "-fail5xx", "0"}, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.residents != 50 || o.duration != time.Minute || o.fail5xx != 0 {
		t.Errorf("-soak with flags = %+v, want the flags kept", o)
	}
	if _, err := parseFlags([]string{"-kill-one", "10s"}, func(string) string { return "" }, nil); err == nil {
		t.Error("-kill-one without -replicas was accepted")
	}
	if _, err := parseFlags([]string{"-replicas", "2"}, func(string) string { return "" }, nil); err == nil {
		t.Error("-replicas without PostgreSQL and Redis was accepted")
	}
}

// TestOrderCheck: a prompt that goes back a step within a flow is counted;
// a new flow starting at step 1 is not.
func TestOrderCheck(t *testing.T) {
	oc := newOrderCheck()
	for _, s := range []string{stepMark(1), stepMark(2), stepMark(3), "کد پیگیری: S-12345", stepMark(1), stepMark(2), stepMark(2)} {
		oc.see(4, "editMessageText", "ارسال پیشنهاد — "+s)
	}
	if oc.broken != 0 {
		t.Fatalf("in-order prompts counted %d out of order (%s)", oc.broken, oc.example)
	}
	oc.see(4, "sendMessage", stepMark(5))
	oc.see(4, "sendMessage", stepMark(4))
	if oc.broken != 1 {
		t.Errorf("step 4 after 5: broken = %d, want 1", oc.broken)
	}
}
