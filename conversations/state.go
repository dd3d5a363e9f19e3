package conversations

// Key identifies one conversation: a person in a chat on a platform.
type Key struct {
	Platform string // "tg" or "bale"
	ChatID   int64
	UserID   int64
}

// State is a conversation as kept in Redis. The zero State is "no flow
// running". Field names are short in JSON because every open conversation
// pays for them in Redis memory.
type State struct {
	Flow        string            `json:"f,omitempty"`  // flow name; "" when idle
	FlowVersion int               `json:"fv,omitempty"` // the flow's version when it started
	Run         string            `json:"r,omitempty"`  // random id of this run of the flow: the idempotency key of its submission
	Step        string            `json:"s,omitempty"`  // current step key; "_summary" for the summary
	Answers     map[string]Answer `json:"a,omitempty"`  // step key -> the person's answer
	Hidden      map[string]Answer `json:"h,omitempty"`  // the engine's bookkeeping and the run's context: argument, search text, page, review choice, Prefilled.Hidden
	Trail       []string          `json:"t,omitempty"`  // steps answered, in order, for /back
	Editing     bool              `json:"e,omitempty"`  // answering an edit from the summary: return there
	Nonce       string            `json:"n,omitempty"`  // changes with every prompt; carried in callback data
	PromptID    int               `json:"p,omitempty"`  // message id of the last prompt (to strip its buttons)
	Notice      string            `json:"o,omitempty"`  // the last closing message, re-sent when an update is replayed
	Expires     int64             `json:"x,omitempty"`  // unix seconds when the flow expires (slides on every step)
	Announced   bool              `json:"an,omitempty"` // the expiry was announced to the person
	Group       string            `json:"g,omitempty"`  // media_group_id of the album being received, to acknowledge it once
	Paused      bool              `json:"pa,omitempty"` // the person left the flow for the menu; the draft waits
	Shown       uint32            `json:"sh,omitempty"` // hash of what the prompt message PromptID shows (text and buttons): an edit to the same is not sent
	ReplyKB     bool              `json:"rk,omitempty"` // a reply keyboard (📱, 📍) is on the person's screen and must be taken away
	Commands    uint32            `json:"cm,omitempty"` // hash of the command list last set for this chat
	Stranger    int64             `json:"sg,omitempty"` // unix seconds when who is asking was last looked up and no person stood behind the account (see strangerFor)

	// Version is the compare-and-set version held in Redis beside the JSON;
	// 0 means the key did not exist. It is not part of the JSON.
	Version int64 `json:"-"`
}

// Answer is one step's answer. Only the fields the step's input kind uses are set.
type Answer struct {
	Text    string   `json:"t,omitempty"`  // text, or a phone in E.164
	Number  int64    `json:"n,omitempty"`  // number
	Values  []string `json:"v,omitempty"`  // choice value(s), or file ids for photos/voice/document
	Time    int64    `json:"d,omitempty"`  // date as unix seconds (midnight Asia/Tehran)
	Lat     float64  `json:"la,omitempty"` // location
	Lon     float64  `json:"lo,omitempty"`
	Skipped bool     `json:"k,omitempty"` // an optional step that was skipped
}
