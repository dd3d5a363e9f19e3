package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

const staffUsage = `usage: mahalle staff add PHONE ROLE [PLACE]
       mahalle staff remove PHONE ROLE [PLACE]
       mahalle staff list [--all]

ROLE is county (هماهنگ‌کننده شهرستان), province (هماهنگ‌کننده استان) or
admin (مدیر). PLACE names the county ("اراک", or "مرکزی/اراک" when two
provinces have a county of that name) or the province ("مرکزی"), in Persian
or English; admin takes none. A role given to a phone that has not shared
its contact with the bot waits until it does. list shows the roles in force
and waiting; --all adds the ended ones.`

// staff runs `mahalle staff add|remove|list`. It prints what it did in
// Persian and English to stdout, and errors to stderr. It returns exitOK on
// success, exitFail when the phone or place is not valid, the role to
// remove is not held, or the database fails, and exitConfig on bad usage.
func (a *app) staff(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, staffUsage)
		return exitConfig
	}
	switch args[0] {
	case "list":
		all := len(args) == 2 && (args[1] == "--all" || args[1] == "-all")
		if len(args) > 2 || (len(args) == 2 && !all) {
			fmt.Fprintln(stderr, staffUsage)
			return exitConfig
		}
		return a.staffList(ctx, all, stdout)
	case "add", "remove":
	default:
		fmt.Fprintln(stderr, staffUsage)
		return exitConfig
	}
	if len(args) < 3 || len(args) > 4 {
		fmt.Fprintln(stderr, staffUsage)
		return exitConfig
	}
	role, ok := parseRole(args[2])
	if !ok || (role == models.RoleAdmin) != (len(args) == 3) {
		fmt.Fprintln(stderr, staffUsage)
		return exitConfig
	}
	if empty, err := a.store.Empty(ctx); err != nil {
		a.log.Error("staff failed", slog.Any("err", err))
		return exitFail
	} else if empty {
		if err := a.store.Seed(ctx, models.SeedFS()); err != nil {
			a.log.Error("staff failed", slog.Any("err", err))
			return exitFail
		}
	}
	req := models.StaffRequest{Phone: args[1], Role: role}
	place := ""
	if len(args) == 4 {
		var err error
		if place, err = a.resolveScope(ctx, &req, args[3]); err != nil {
			fmt.Fprintln(stderr, "mahalle: "+err.Error())
			return exitFail
		}
	}
	name := models.RoleName(role, place)
	if args[0] == "add" {
		as, err := a.store.AssignStaff(ctx, models.ActorCLI, req)
		if code := models.ErrorCode(err); code == models.EINVALID {
			fmt.Fprintf(stderr, "mahalle: %s / invalid: %s\n", models.ErrorMessage(err), args[1])
			return exitFail
		} else if err != nil {
			a.log.Error("staff add failed", slog.Any("err", err))
			return exitFail
		}
		if as.Status == models.StaffActive {
			fmt.Fprintf(stdout, "نقش «%s» برای %s فعال است.\n", name, persian.Digits(as.Phone))
			fmt.Fprintf(stdout, "%s is now active for %s.\n", roleEn(role, place), as.Phone)
		} else {
			fmt.Fprintf(stdout, "نقش «%s» برای %s ثبت شد و پس از فرستادن شماره در ربات فعال می‌شود.\n", name, persian.Digits(as.Phone))
			fmt.Fprintf(stdout, "%s assigned to %s; active once they share their contact with the bot.\n", roleEn(role, place), as.Phone)
		}
		return exitOK
	}
	as, err := a.store.EndStaff(ctx, models.ActorCLI, req)
	switch models.ErrorCode(err) {
	case "":
	case models.EINVALID:
		fmt.Fprintf(stderr, "mahalle: %s / invalid: %s\n", models.ErrorMessage(err), args[1])
		return exitFail
	case models.ENOTFOUND:
		fmt.Fprintf(stderr, "mahalle: این شماره چنین نقشی ندارد / %s does not hold %s\n", args[1], roleEn(role, place))
		return exitFail
	default:
		a.log.Error("staff remove failed", slog.Any("err", err))
		return exitFail
	}
	fmt.Fprintf(stdout, "نقش «%s» از %s برداشته شد.\n", name, persian.Digits(as.Phone))
	fmt.Fprintf(stdout, "%s removed from %s.\n", roleEn(role, place), as.Phone)
	return exitOK
}

// staffList prints one line per assignment: role, place, phone, name,
// status and since, tab-separated, after a count.
func (a *app) staffList(ctx context.Context, all bool, stdout io.Writer) int {
	vs, err := a.store.Staff(ctx, all)
	if err != nil {
		a.log.Error("staff list failed", slog.Any("err", err))
		return exitFail
	}
	fmt.Fprintf(stdout, "نقش‌ها: %s / staff roles: %d\n", persian.FormatNumber(int64(len(vs))), len(vs))
	for _, v := range vs {
		place := v.CountyName
		if place == "" {
			place = v.ProvinceName
		}
		if place == "" {
			place = "-"
		}
		name := v.PersonName
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Role, place, v.Phone, name, v.Status, v.Since.In(persian.Tehran).Format("2006-01-02"))
	}
	return exitOK
}

// parseRole reads a role as an operator types it.
func parseRole(s string) (models.Role, bool) {
	switch persian.SearchKey(s) {
	case "county", persian.SearchKey("شهرستان"), persian.SearchKey("هماهنگ‌کننده شهرستان"):
		return models.RoleCounty, true
	case "province", persian.SearchKey("استان"), persian.SearchKey("هماهنگ‌کننده استان"):
		return models.RoleProvince, true
	case "admin", persian.SearchKey("مدیر"):
		return models.RoleAdmin, true
	}
	return "", false
}

func roleEn(r models.Role, place string) string {
	s := map[models.Role]string{models.RoleCounty: "county coordinator", models.RoleProvince: "province coordinator", models.RoleAdmin: "admin"}[r]
	if place != "" {
		s += " of " + place
	}
	return s
}

// resolveScope finds the county or province named by place and sets it on
// req, returning its Persian name.
func (a *app) resolveScope(ctx context.Context, req *models.StaffRequest, place string) (string, error) {
	provinceName, countyName, hasSlash := strings.Cut(place, "/")
	if !hasSlash {
		countyName, provinceName = provinceName, ""
	}
	ps, err := a.store.Provinces(ctx)
	if err != nil {
		return "", err
	}
	match := func(want, fa, en, code string) bool {
		k := persian.SearchKey(want)
		return k == persian.SearchKey(fa) || k == persian.SearchKey(en) || k == persian.SearchKey(code)
	}
	if req.Role == models.RoleProvince {
		if hasSlash {
			return "", fmt.Errorf("استان را بدون شهرستان بنویسید / give the province alone: %q", place)
		}
		for _, p := range ps {
			if match(countyName, p.Name, p.NameEn, p.Code) {
				req.ProvinceID = p.ID
				return p.Name, nil
			}
		}
		return "", fmt.Errorf("استان پیدا نشد / no such province: %q", place)
	}
	var found []models.County
	for _, p := range ps {
		if hasSlash && !match(provinceName, p.Name, p.NameEn, p.Code) {
			continue
		}
		cs, err := a.store.Counties(ctx, p.ID)
		if err != nil {
			return "", err
		}
		for _, c := range cs {
			if match(countyName, c.Name, c.NameEn, c.Code) {
				found = append(found, c)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("شهرستان پیدا نشد / no such county: %q", place)
	case 1:
		req.CountyID = found[0].ID
		return found[0].Name, nil
	}
	return "", fmt.Errorf("چند شهرستان به این نام هست؛ به شکل استان/شهرستان بنویسید / several counties have this name; write province/county: %q", place)
}
