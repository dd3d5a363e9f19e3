package main

import (
	"bytes"
	"strings"
	"testing"
)

// runStaff runs `mahalle staff ARGS…` against env and returns the exit code
// and what it printed.
func runStaff(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"staff"}, args...), testSystem(env, &out, &errOut))
	return code, out.String(), errOut.String()
}

func TestStaffCommand(t *testing.T) {
	t.Parallel()
	env := backendEnv(t) // no bot token: the command needs none
	steps := []struct {
		args     []string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{[]string{"add", "09129999999", "county", "اراک"}, exitOK,
			[]string{"نقش «هماهنگ‌کنندهٔ شهرستان اراک» برای +۹۸۹۱۲۹۹۹۹۹۹۹ ثبت شد و پس از فرستادن شماره در ربات فعال می‌شود.",
				"county coordinator of اراک assigned to +989129999999; active once they share their contact with the bot."}, ""},
		{[]string{"add", "09129999999", "county", "markazi/arak"}, exitOK, []string{"ثبت شد"}, ""}, // the same role again: nothing new
		{[]string{"add", "+989350000000", "استان", "مرکزی"}, exitOK, []string{"هماهنگ‌کنندهٔ استان مرکزی"}, ""},
		{[]string{"add", "09350000001", "admin"}, exitOK, []string{"مدیر سامانه"}, ""},
		{[]string{"list"}, exitOK, []string{"نقش‌ها: ۳ / staff roles: 3", "county\tاراک\t+989129999999\t-\tpending",
			"province\tمرکزی\t+989350000000", "admin\t-\t+989350000001"}, ""},
		{[]string{"remove", "09129999999", "county", "اراک"}, exitOK, []string{"از +۹۸۹۱۲۹۹۹۹۹۹۹ برداشته شد", "removed from +989129999999"}, ""},
		{[]string{"remove", "09129999999", "county", "اراک"}, exitFail, nil, "این شماره چنین نقشی ندارد"},
		{[]string{"list"}, exitOK, []string{"staff roles: 2"}, ""},
		{[]string{"list", "--all"}, exitOK, []string{"staff roles: 3", "ended"}, ""},
		{[]string{"add", "12345", "county", "اراک"}, exitFail, nil, "شماره تلفن معتبر نیست"},
		{[]string{"add", "09129999999", "county", "ناکجا"}, exitFail, nil, "شهرستان پیدا نشد"},
		{[]string{"add", "09129999999", "mayor", "اراک"}, exitConfig, nil, "usage: mahalle staff"},
		{[]string{"add", "09129999999", "admin", "اراک"}, exitConfig, nil, "usage: mahalle staff"},
		{[]string{"add", "09129999999", "county"}, exitConfig, nil, "usage: mahalle staff"},
		{[]string{"fire"}, exitConfig, nil, "usage: mahalle staff"},
	}
	for _, st := range steps {
		code, out, errOut := runStaff(t, env, st.args...)
		if code != st.wantCode {
			t.Errorf("staff %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, code, st.wantCode, out, errOut)
			continue
		}
		for _, w := range st.wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("staff %q: stdout = %q, want %q", st.args, out, w)
			}
		}
		if st.wantErr != "" && !strings.Contains(errOut, st.wantErr) {
			t.Errorf("staff %q: stderr = %q, want %q", st.args, errOut, st.wantErr)
		}
	}
}

func TestOutboxReport(t *testing.T) {
	t.Parallel()
	env := backendEnv(t)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"outbox"}, testSystem(env, &out, &errOut)); code != exitOK || !strings.Contains(out.String(), "outbox: empty") {
		t.Errorf("empty outbox: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if code, o, e := runStaff(t, env, "add", "09129999999", "province", "markazi"); code != exitOK {
		t.Fatalf("staff add: %d\n%s\n%s", code, o, e)
	}
	(&harness{t: t, env: env}).linkPhone("tg", 77, "09129999999")
	out.Reset()
	if code := run(t.Context(), []string{"outbox"}, testSystem(env, &out, &errOut)); code != exitOK ||
		!strings.Contains(out.String(), "صف پیام‌ها: ۱ در صف") || !strings.Contains(out.String(), "outbox: pending 1") ||
		!strings.Contains(out.String(), "\tpending\tstaff_assigned\tperson:") || strings.Contains(out.String(), "شدید") {
		t.Errorf("outbox: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if code := run(t.Context(), []string{"outbox", "lost"}, testSystem(env, &out, &errOut)); code != exitConfig {
		t.Errorf("outbox lost: exit %d, want %d", code, exitConfig)
	}
}

// linkPhone ties a platform account to the phone, as sharing the contact does.
func (h *harness) linkPhone(platform string, userID int64, phone string) {
	h.t.Helper()
	store := h.openStore()
	if _, _, err := store.LinkPhone(h.t.Context(), platform, userID, userID, phone); err != nil {
		h.t.Fatal(err)
	}
}
