package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRoster writes a roster file into the test's directory.
func writeRoster(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runRoster runs `mahalle roster ARGS…` against env and returns the exit
// code and what it printed.
func runRoster(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"roster"}, args...), testSystem(env, &out, &errOut))
	return code, out.String(), errOut.String()
}

func TestRosterImport(t *testing.T) {
	t.Parallel()
	env := backendEnv(t) // no bot token: importing a roster needs none
	seedDemo(t, env)
	roster, err := os.ReadFile(filepath.Join("..", "..", "models", "testdata", "roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	file := writeRoster(t, string(roster))

	code, out, errOut := runRoster(t, env, "import", file)
	if code != exitOK {
		t.Fatalf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, out, errOut)
	}
	for _, want := range []string{"roster: 4 rows; 4 created, 0 updated, 0 unchanged", "فهرست اعضا: ۴ ردیف؛ ۴ عضویت تازه"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout = %q, want it to contain %q", out, want)
		}
	}

	// The database outlives the run: importing again changes nothing.
	code, out, errOut = runRoster(t, env, "import", file)
	if code != exitOK || !strings.Contains(out, "4 rows; 0 created, 0 updated, 4 unchanged") {
		t.Errorf("second import: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestRosterImportInvalid(t *testing.T) {
	t.Parallel()
	env := backendEnv(t)
	seedDemo(t, env)
	file := writeRoster(t, `province,county,place,full_name,phone,position,committee
مرکزی,اراک,محله نمونه ۱ اراک,مریم احمدی,09121111111,رئیس,بهداشت و درمان
مرکزی,اراک,محله نمونه ۱ اراک,علی رضایی,12345,دبیر,امور فرهنگی
مرکزی,اراک,ن,زهرا کریمی,09123333333,عضو,امور فرهنگی
`)
	code, out, errOut := runRoster(t, env, "import", file)
	if code != exitFail {
		t.Fatalf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFail, out, errOut)
	}
	for _, want := range []string{
		"خط ۳: شماره «12345» شماره همراه ایران نیست",
		`line 3: phone "12345" is not an Iranian mobile number`,
		"خط ۴: نام محله یا روستای «ن» پذیرفته نیست",
		`line 4: place name "ن" is not acceptable`,
		"nothing imported",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr = %q, want it to contain %q", errOut, want)
		}
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing when nothing was imported", out)
	}

	code, out, errOut = runRoster(t, env, "import", "--skip-invalid", file)
	if code != exitOK || !strings.Contains(out, "3 rows; 1 created, 0 updated, 0 unchanged, 2 invalid rows skipped") ||
		!strings.Contains(errOut, "line 3:") {
		t.Errorf("import with --skip-invalid: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestRosterUsage(t *testing.T) {
	t.Parallel()
	env := backendEnv(t)
	file := writeRoster(t, "province,county,place,full_name,phone,position,committee\n")
	for _, args := range [][]string{
		nil,
		{"export", file},
		{"import"},
		{"import", file, file},
		{"import", file, "--dry-run"},
	} {
		if code, out, errOut := runRoster(t, env, args...); code != exitConfig || !strings.Contains(errOut, "usage: mahalle roster import") {
			t.Errorf("roster %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, exitConfig, out, errOut)
		}
	}
	if code, _, errOut := runRoster(t, env, "import", filepath.Join(t.TempDir(), "missing.csv")); code != exitFail || !strings.Contains(errOut, "cannot open the roster") {
		t.Errorf("missing file: exit %d, want %d\nstderr:\n%s", code, exitFail, errOut)
	}
}
