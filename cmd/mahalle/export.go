package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mahalle/mahalle/models"
)

// export writes suggestions or actions as CSV: the operator at the command
// line sees every province, as an admin does. Anonymous suggestions never
// show who sent them, and cells a spreadsheet would run are neutralised.
func (a *app) export(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	operator := models.Viewer{Platform: models.ActorCLI.Platform, Staff: []models.StaffScope{{Role: models.RoleAdmin}}}
	var err error
	switch {
	case len(args) == 1 && args[0] == "suggestions":
		err = a.store.ExportSuggestions(ctx, operator, stdout)
	case len(args) == 1 && args[0] == "actions":
		err = a.store.ExportActions(ctx, operator, stdout)
	default:
		fmt.Fprintln(stderr, "mahalle: usage: mahalle export suggestions|actions")
		return exitConfig
	}
	if err != nil {
		fmt.Fprintln(stderr, "mahalle: export: "+err.Error())
		return exitFail
	}
	return exitOK
}
