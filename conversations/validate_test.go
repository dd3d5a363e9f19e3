package conversations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/conversations"
)

// Each kind of wrong flow is refused at start with a message that names it.
func TestNewEngineRefusesWrongFlows(t *testing.T) {
	submit := func(context.Context, conversations.Submission) (string, error) { return "ثبت شد", nil }
	opts := func(context.Context, *conversations.State) ([]conversations.Option, error) { return nil, nil }
	search := func(context.Context, *conversations.State, string) ([]conversations.Option, error) { return nil, nil }
	text := func(key string) *conversations.Step {
		return &conversations.Step{Key: key, Label: "برچسب", Prompt: "پرسش", Kind: conversations.InputText}
	}
	flow := func(name string, steps ...*conversations.Step) *conversations.Flow {
		return &conversations.Flow{Name: name, Title: "آزمون", Steps: steps, Submit: submit}
	}
	tests := []struct {
		name  string
		flows []*conversations.Flow
		want  string
	}{
		{"two flows with one name", []*conversations.Flow{flow("a", text("x")), flow("a", text("y"))}, `flow "a": is defined twice`},
		{"two steps with one key", []*conversations.Flow{flow("a", text("x"), text("x"))}, `step "x" is defined twice`},
		{"a key too long for callback data", []*conversations.Flow{flow("a", text(strings.Repeat("k", 40)))}, "64-byte callback data"},
		{"a jump to a missing step", []*conversations.Flow{flow("a", &conversations.Step{Key: "x", Label: "ب", Prompt: "پ",
			Kind: conversations.InputChoice, Options: opts, Search: search, Jump: "nowhere"})}, `jumps to step "nowhere", which does not exist`},
		{"a choice with no options", []*conversations.Flow{flow("a", &conversations.Step{Key: "x", Label: "ب", Prompt: "پ",
			Kind: conversations.InputChoice})}, `step "x" is a choice with no Options func`},
		{"a dependency on a missing step", []*conversations.Flow{func() *conversations.Flow {
			f := flow("a", text("x"))
			f.Depends = map[string][]string{"x": {"ghost"}}
			return f
		}()}, `step "x" depends on step "ghost", which does not exist`},
		{"a dependency of a missing step", []*conversations.Flow{func() *conversations.Flow {
			f := flow("a", text("x"))
			f.Depends = map[string][]string{"ghost": {"x"}}
			return f
		}()}, `a dependency of step "ghost", which does not exist`},
		{"an unknown input kind", []*conversations.Flow{flow("a", &conversations.Step{Key: "x", Label: "ب", Prompt: "پ", Kind: 99})}, "unknown input kind"},
		{"a key the engine reserves", []*conversations.Flow{flow("a", text("_x"))}, "keys starting with '_' are the engine's"},
	}
	fx := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := conversations.NewEngine(fx.convs, conversations.Config{Flows: tt.flows})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewEngine error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := conversations.NewEngine(fx.convs, conversations.Config{Flows: []*conversations.Flow{flow("a", text("x"))}}); err != nil {
		t.Errorf("a right flow was refused: %v", err)
	}
}
