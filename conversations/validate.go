package conversations

import (
	"errors"
	"fmt"
	"strings"
)

// maxStepKeyLen is the longest step key whose buttons fit in callback data:
// the summary's edit button carries "<nonce>|_summary|e:<key>", and the
// step field itself is limited to maxStepLen.
const maxStepKeyLen = min(maxStepLen, MaxCallbackLen-maxNonceLen-len(callbackSep)*2-len(stepSummary)-len(editPrefix))

// validate refuses flows the engine could not run correctly, naming the
// flow and the step: two flows or steps with one name, a step key that does
// not fit in callback data, a jump to a missing step, a choice with no
// options, a dependency on a missing step, an input kind the engine does
// not know.
func validate(flows []*Flow) error {
	var errs []error
	bad := func(f *Flow, format string, args ...any) {
		errs = append(errs, fmt.Errorf("conversations: flow %q: "+format, append([]any{f.Name}, args...)...))
	}
	names := map[string]bool{}
	commands := map[string]string{}
	for _, f := range flows {
		if f == nil {
			errs = append(errs, errors.New("conversations: a nil flow"))
			continue
		}
		switch {
		case f.Name == "":
			bad(f, "has no name")
		case names[f.Name]:
			bad(f, "is defined twice")
		case strings.ContainsAny(f.Name, ":|") || len(f.Name) > maxStepKeyLen:
			bad(f, "name must be at most %d bytes without ':' or '|'", maxStepKeyLen)
		}
		names[f.Name] = true
		if f.Command != "" {
			if other, ok := commands[f.Command]; ok {
				bad(f, "command /%s is also the command of flow %q", f.Command, other)
			}
			commands[f.Command] = f.Name
		}
		if len(f.Steps) == 0 {
			bad(f, "has no steps")
		}
		if f.Submit == nil {
			bad(f, "has no Submit")
		}
		keys := map[string]bool{}
		for _, s := range f.Steps {
			switch {
			case s.Key == "":
				bad(f, "a step has no key")
				continue
			case keys[s.Key]:
				bad(f, "step %q is defined twice", s.Key)
			case strings.HasPrefix(s.Key, "_"):
				bad(f, "step %q: keys starting with '_' are the engine's", s.Key)
			case len(s.Key) > maxStepKeyLen:
				bad(f, "step %q: the key is %d bytes, over the %d that fit in 64-byte callback data", s.Key, len(s.Key), maxStepKeyLen)
			default:
				if err := (CallbackData{Step: s.Key}).validate(); err != nil {
					bad(f, "step %q: the key must use only [A-Za-z0-9_.-]", s.Key)
				}
			}
			keys[s.Key] = true
			if _, ok := kinds[s.Kind]; !ok {
				bad(f, "step %q: unknown input kind %d", s.Key, s.Kind)
			}
			if s.Label == "" || s.Prompt == "" {
				bad(f, "step %q needs a Label and a Prompt", s.Key)
			}
		}
		for _, s := range f.Steps {
			if s.Search != nil || s.Jump != "" {
				switch {
				case s.Search == nil || s.Jump == "":
					bad(f, "step %q: Search and Jump go together", s.Key)
				case !keys[s.Jump]:
					bad(f, "step %q jumps to step %q, which does not exist", s.Key, s.Jump)
				}
			}
			if (s.Locate != nil || s.Create != nil) && s.Kind != InputChoice {
				bad(f, "step %q: Locate and Create are for a choice step", s.Key)
			}
			if (s.Others || s.Forward != nil || s.ContactOnly) && s.Kind != InputPhone || s.Forward != nil && !s.Others || s.Others && s.ContactOnly {
				bad(f, "step %q: Others, Forward and ContactOnly are for a phone step; Forward needs Others; Others excludes ContactOnly", s.Key)
			}
			if s.Create != nil && (s.Other == "" || s.OtherPrompt == "") {
				bad(f, "step %q: Create needs its Other button label and OtherPrompt", s.Key)
			}
			if (s.Kind == InputChoice || s.Kind == InputMultiChoice) && s.Options == nil {
				bad(f, "step %q is a choice with no Options func", s.Key)
			}
		}
		for step, on := range f.Depends {
			if !keys[step] {
				bad(f, "a dependency of step %q, which does not exist", step)
			}
			for _, d := range on {
				if !keys[d] {
					bad(f, "step %q depends on step %q, which does not exist", step, d)
				}
			}
		}
	}
	return errors.Join(errs...)
}
