package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

const rosterUsage = `usage: mahalle roster import FILE.csv [--skip-invalid]

FILE.csv has a header row naming the columns province, county, place,
full_name, phone, position, committee (in English or Persian: استان,
شهرستان, محله, نام و نام خانوادگی, تلفن همراه, سمت, کمیته); lines starting
with # are comments. Province, county and place are Persian names or codes
of the reference data. position is رئیس, دبیر or عضو (chair, secretary,
member). committee is one of the province's committees, by Persian name or
code; the default list: بهداشت و درمان (health), حمایت معیشتی (livelihood),
امنیت عمومی (security), امور فرهنگی (culture), عمران و خدمات محلی (civil),
محیط زیست (environment), مدیریت بحران (crisis).
A sample to start from: docs/roster-sample.csv.

Every row is checked first; when any is invalid nothing is imported, unless
--skip-invalid is given, which imports the valid rows.

The import writes to the same database as the bot: run it with the same
DATA_DIR (SQLite) or DATABASE_URL (PostgreSQL) the bot uses.`

// roster runs `mahalle roster import FILE.csv [--skip-invalid]`: it imports
// a council roster into the database (seeding the reference data first when
// the database is new), prints a summary in Persian and English to stdout
// and each invalid line to stderr. It returns exitOK when the rows were
// imported (some may have been skipped with --skip-invalid), exitFail when
// rows were invalid and nothing was imported or the import failed, and
// exitConfig on bad usage.
func (a *app) roster(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	path, opts, ok := parseRosterArgs(args)
	if !ok {
		fmt.Fprintln(stderr, rosterUsage)
		return exitConfig
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "mahalle: پرونده فهرست اعضا باز نشد / cannot open the roster: %v\n", err)
		return exitFail
	}
	defer f.Close()

	if _, err := a.store.SeedIfStale(ctx); err != nil {
		a.log.Error("roster import failed", slog.Any("err", err))
		return exitFail
	}

	rep, err := a.store.ImportRoster(ctx, f, opts)
	for _, e := range rep.Errors {
		fmt.Fprintf(stderr, "خط %s: %s / line %d: %s\n", persian.Digits(fmt.Sprint(e.Line)), e.Fa, e.Line, e.En)
	}
	switch {
	case models.ErrorCode(err) == models.EINVALID:
		fmt.Fprintln(stderr, "هیچ ردیفی وارد نشد: ردیف‌های نادرست را درست کنید یا با --skip-invalid دوباره اجرا کنید.")
		fmt.Fprintln(stderr, "nothing imported: fix the invalid rows, or run again with --skip-invalid")
		return exitFail
	case err != nil:
		a.log.Error("roster import failed", slog.Any("err", err))
		return exitFail
	}
	fa := func(n int) string { return persian.FormatNumber(int64(n)) }
	fmt.Fprintf(stdout, "فهرست اعضا: %s ردیف؛ %s عضویت تازه، %s به‌روزشده، %s بدون تغییر، %s ردیف نادرست کنار گذاشته شد.\n",
		fa(rep.Rows), fa(rep.Created), fa(rep.Updated), fa(rep.Unchanged), fa(rep.Skipped))
	fmt.Fprintf(stdout, "roster: %d rows; %d created, %d updated, %d unchanged, %d invalid rows skipped.\n",
		rep.Rows, rep.Created, rep.Updated, rep.Unchanged, rep.Skipped)
	if rep.PlacesAdded > 0 {
		fmt.Fprintf(stdout, "محله‌ها و روستاهای تازه: %s (تأییدشده افزوده شد).\n", fa(rep.PlacesAdded))
		fmt.Fprintf(stdout, "roster: %d new places added, confirmed.\n", rep.PlacesAdded)
	}
	return exitOK
}

// parseRosterArgs reads the arguments after "roster": "import", one file
// and, anywhere after "import", the flag --skip-invalid.
func parseRosterArgs(args []string) (string, models.RosterOptions, bool) {
	var opts models.RosterOptions
	if len(args) == 0 || args[0] != "import" {
		return "", opts, false
	}
	var files []string
	for _, arg := range args[1:] {
		switch arg {
		case "--skip-invalid", "-skip-invalid":
			opts.SkipInvalid = true
		default:
			if len(arg) > 1 && arg[0] == '-' {
				return "", opts, false
			}
			files = append(files, arg)
		}
	}
	if len(files) != 1 {
		return "", opts, false
	}
	return files[0], opts, true
}
