package conversations

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/mahalle/mahalle/models"
)

// Command is one entry of the chat's command list (setMyCommands).
type Command struct {
	Command     string // without the slash
	Description string
}

// menuGroup is a heading of the menu and of /help: the flows of one kind
// of user.
type menuGroup struct {
	roles   []models.Role
	heading string
}

// menuGroups are the groups in the order they are shown.
var menuGroups = []menuGroup{
	{[]models.Role{models.RoleResident}, msgGroupResident},
	{[]models.Role{models.RoleMember, models.RoleChair, models.RoleSecretary}, msgGroupMember},
	{[]models.Role{models.RoleCounty, models.RoleProvince}, msgGroupCoordinator},
	{[]models.Role{models.RoleAdmin}, msgGroupAdmin},
}

// menuEntry is one flow's button for a viewer.
type menuEntry struct {
	flow  *Flow
	label string
	group int
}

// groupOf is the index in menuGroups of the flow's first role.
func groupOf(f *Flow) int {
	if len(f.Roles) == 0 {
		return 0
	}
	for i, g := range menuGroups {
		if slices.Contains(g.roles, f.Roles[0]) {
			return i
		}
	}
	return 0
}

// mayRun reports whether v holds one of the roles f is for.
func mayRun(f *Flow, v models.Viewer) bool {
	if len(f.Roles) == 0 {
		return true
	}
	for _, r := range f.Roles {
		if v.Has(r) {
			return true
		}
	}
	return false
}

// entries are the flows v may start from the menu, grouped, each group in
// the flows' Order. The labels are computed under one memo (see Memo).
func (e *Engine) entries(ctx context.Context, v models.Viewer) []menuEntry {
	var out []menuEntry
	ctx = context.WithValue(ctx, memoKey{}, &memo{vals: map[string]any{}})
	for _, f := range e.cfg.Flows {
		if !mayRun(f, v) {
			continue
		}
		label := f.Menu
		if f.MenuLabel != nil {
			label = f.MenuLabel(ctx, v)
		}
		if label == "" {
			continue
		}
		out = append(out, menuEntry{flow: f, label: label, group: groupOf(f)})
	}
	slices.SortStableFunc(out, func(a, b menuEntry) int {
		if a.group != b.group {
			return a.group - b.group
		}
		return a.flow.Order - b.flow.Order
	})
	return out
}

// menuViewer is who is asking, or a plain resident when that cannot be
// read (the menu still shows what everyone may do).
func (t *turn) menuViewer() models.Viewer {
	v, err := t.viewer()
	if err != nil {
		t.e.cfg.Logger.Error("conversations: menu", slog.Any("err", err))
		return models.Viewer{Platform: t.key.Platform, UserID: t.key.UserID}
	}
	return v
}

// menu shows the main menu, with a way back to a waiting draft. Someone
// with two roles sees both sets, each under its heading.
func (t *turn) menu(lead string) { t.menuWith(lead, nil) }

// menuWith is the menu under lead, with extra buttons first (what to do
// next with the record just shown).
func (t *turn) menuWith(lead string, extra [][]Button) {
	rows := extra
	if f := t.e.flows[t.st.Flow]; f != nil && (t.st.Paused || t.expired()) {
		rows = append(rows, []Button{t.menuButton("ادامهٔ «"+f.Title+"»", menuResume)})
	}
	entries := t.entries()
	groups := map[int]bool{}
	for _, en := range entries {
		groups[en.group] = true
		rows = append(rows, []Button{t.menuButton(en.label, en.flow.Name)})
	}
	for _, it := range t.e.cfg.Menu {
		v := it.Flow
		if v == "" {
			v = it.Label
		}
		rows = append(rows, []Button{t.menuButton(it.Label, v)})
	}
	rows = append(rows, []Button{t.menuButton("راهنما", menuHelp)})
	var b strings.Builder
	if lead != "" {
		b.WriteString(lead + "\n\n")
	}
	b.WriteString(msgMenu)
	if len(groups) > 1 {
		for i, g := range menuGroups {
			if !groups[i] {
				continue
			}
			var labels []string
			for _, en := range entries {
				if en.group == i {
					labels = append(labels, "«"+en.label+"»")
				}
			}
			b.WriteString("\n" + g.heading + ": " + strings.Join(labels, "، "))
		}
	}
	t.outs = append(t.outs, Out{Text: b.String(), Buttons: rows})
	t.commands()
}

// helpText is /help for the viewer: the install's words, then what they
// may do, under a heading per group.
func (t *turn) helpText() string {
	var b strings.Builder
	b.WriteString(t.e.cfg.Help)
	entries := t.entries()
	last := -1
	for _, en := range entries {
		if en.group != last {
			b.WriteString("\n\n" + menuGroups[en.group].heading + ":")
			last = en.group
		}
		line := "\n• «" + en.label + "»"
		if en.flow.Help != "" {
			line += ": " + en.flow.Help
		}
		if en.flow.Command != "" {
			line += " (/" + en.flow.Command + ")"
		}
		b.WriteString(line)
	}
	b.WriteString("\n\n" + msgHelpInFlow)
	return strings.TrimSpace(b.String())
}

// Commands is the command list for v: the fixed commands and a command per
// flow that has one and v may run.
func (e *Engine) Commands(v models.Viewer) []Command {
	return commandsOf(e.entries(context.Background(), v))
}

// commandsOf is the command list of the menu's entries. A command reads as
// its flow's menu label, not the label of the moment, so a count changing
// («بررسی اقدام‌ها (۳)») does not re-set the chat's command list.
func commandsOf(entries []menuEntry) []Command {
	cmds := []Command{{"start", msgCmdStart}, {"help", msgCmdHelp}}
	for _, en := range entries {
		if en.flow.Command != "" {
			cmds = append(cmds, Command{en.flow.Command, cmp.Or(en.flow.Menu, en.label)})
		}
	}
	return append(cmds, Command{"menu", msgCmdMenu}, Command{"back", msgCmdBack}, Command{"cancel", msgCmdCancel})
}

// entries are the menu's entries for this turn's viewer, computed once a
// turn: the menu, /help and the command list share them.
func (t *turn) entries() []menuEntry {
	if !t.entriesDone {
		t.menuEntries, t.entriesDone = t.e.entries(t.ctx, t.menuViewer()), true
	}
	return t.menuEntries
}

type memoKey struct{}

type memo struct {
	mu   sync.Mutex
	vals map[string]any
}

// Memo returns what fn returns, computed once for key within one drawing of
// the menu: labels that share a figure (three coordinator buttons with the
// counts of one query) read it once. Outside a menu (ctx without a memo) it
// simply calls fn.
func Memo[T any](ctx context.Context, key string, fn func() T) T {
	m, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return fn()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vals[key]; ok {
		return v.(T)
	}
	v := fn()
	m.vals[key] = v
	return v
}

// commands puts the viewer's command list on the last Out when it is not
// the one last set for this chat.
func (t *turn) commands() {
	if !t.e.cfg.ChatCommands || t.replaying || len(t.outs) == 0 {
		return
	}
	cmds := commandsOf(t.entries())
	sum := commandsHash(cmds)
	if sum == t.st.Commands || t.st.Commands == 0 && sum == commandsHash(t.e.Commands(models.Viewer{})) {
		// Already set for this chat, or the install's default list (set
		// once for every chat at start) is the right one.
		return
	}
	t.st.Commands = sum
	t.changed = true
	t.outs[len(t.outs)-1].Commands = cmds
}

// commandsHash identifies a command list.
func commandsHash(cmds []Command) uint32 {
	// FNV-1a, as hash/fnv computes it, without a conversion to bytes for
	// every string (this runs on every update).
	h := uint32(2166136261)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint32(s[i])) * 16777619
		}
		h *= 16777619 // the 0 byte after each string
	}
	for _, c := range cmds {
		add(c.Command)
		add(c.Description)
	}
	return h | 1
}
