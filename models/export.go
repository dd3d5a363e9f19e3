package models

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/mahalle/mahalle/persian"
)

// csvSafe neutralises a cell a spreadsheet would run as a formula: text
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe, which spreadsheets show as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ExportSuggestions writes the suggestions v may see (staff: every one in
// scope) as CSV, oldest first. An anonymous suggestion never carries who
// sent it; no row carries a sender's account. Returns EFORBIDDEN when v is
// not staff.
func (s *Store) ExportSuggestions(ctx context.Context, v Viewer, w io.Writer) error {
	where, args, ok := v.scopeFilter("counties.id", "counties.province_id")
	if !ok {
		return fmt.Errorf("models: export suggestions: %w", Errorf(EFORBIDDEN, "not staff"))
	}
	out := csv.NewWriter(w)
	_ = out.Write([]string{"code", "province", "county", "place", "topic", "status", "sent", "sender", "text", "has_voice", "photos"})
	for offset := 0; ; offset += maxPageSize {
		var rows []struct {
			SuggestionView
			ProvinceName string
		}
		err := suggestionViews(s.db.WithContext(ctx)).Select(`suggestions.id, suggestions.code, places.name AS place_name,
			counties.name AS county_name, provinces.name AS province_name, COALESCE(committees.name, '') AS committee_name,
			suggestions.status, suggestions.created_at, suggestions.text, suggestions.voice_file_id, suggestions.photo_file_ids,
			suggestions.anonymous, CASE WHEN suggestions.anonymous THEN '' ELSE suggestions.sender_name END AS sender_name`).
			Joins("JOIN provinces ON provinces.id = counties.province_id").
			Where(where, args...).Order("suggestions.id").Offset(offset).Limit(maxPageSize).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("models: export suggestions: %w", err)
		}
		for _, r := range rows {
			sender := r.SenderName
			if r.Anonymous {
				sender = "بی‌نام"
			}
			rec := []string{r.Code, r.ProvinceName, r.CountyName, r.PlaceName, r.CommitteeName, StatusLabel(r.Status),
				persian.FormatDateNumeric(r.CreatedAt), sender, r.Text, fmt.Sprint(r.VoiceFileID != ""), fmt.Sprint(len(r.PhotoFileIDs))}
			for i := range rec {
				rec[i] = csvSafe(rec[i])
			}
			if err := out.Write(rec); err != nil {
				return fmt.Errorf("models: export suggestions: %w", err)
			}
		}
		if len(rows) < maxPageSize {
			break
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("models: export suggestions: %w", err)
	}
	return nil
}

// ExportActions writes the actions in v's scope as CSV, oldest first.
// Returns EFORBIDDEN when v is not staff.
func (s *Store) ExportActions(ctx context.Context, v Viewer, w io.Writer) error {
	where, args, ok := v.scopeFilter("counties.id", "provinces.id")
	if !ok {
		return fmt.Errorf("models: export actions: %w", Errorf(EFORBIDDEN, "not staff"))
	}
	out := csv.NewWriter(w)
	_ = out.Write([]string{"code", "province", "county", "place", "committee", "title", "date", "status", "progress",
		"beneficiaries", "cost", "cost_unit", "partners", "reporter", "programmes"})
	for offset := 0; ; offset += maxPageSize {
		var rows []ActionView
		if err := actionViews(s.db.WithContext(ctx)).Where(where, args...).Order("actions.id").Offset(offset).Limit(maxPageSize).Scan(&rows).Error; err != nil {
			return fmt.Errorf("models: export actions: %w", err)
		}
		for _, a := range rows {
			benef, cost := "", ""
			if a.Beneficiaries != nil {
				benef = fmt.Sprint(*a.Beneficiaries)
			}
			if a.Cost != nil {
				cost = fmt.Sprint(*a.Cost)
			}
			rec := []string{a.Code, a.ProvinceName, a.CountyName, a.PlaceName, a.CommitteeName, a.Title,
				persian.FormatDateNumeric(a.Date), a.Status, fmt.Sprint(a.Progress), benef, cost, a.CostUnit, a.Partners,
				a.ReporterName, strings.Join(a.Programmes, " ")}
			for i := range rec {
				rec[i] = csvSafe(rec[i])
			}
			if err := out.Write(rec); err != nil {
				return fmt.Errorf("models: export actions: %w", err)
			}
		}
		if len(rows) < maxPageSize {
			break
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("models: export actions: %w", err)
	}
	return nil
}
