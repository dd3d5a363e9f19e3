package conversations

// Input is one thing a person did in a private chat, as the engine sees it:
// the handlers translate platform updates into it.
type Input struct {
	UpdateID   int
	MessageID  int // the person's message, or the message a pressed button sits on
	SenderID   int64
	SenderName string

	Text         string // text or caption, normalised
	Command      string // "start", "cancel", ... without the slash
	Args         string // what follows the command: a deep link's payload
	CallbackID   string // set when a button was pressed
	CallbackData string
	Contact      *Contact
	Location     *Location
	Photo        string // file ids
	Voice        string
	Document     string
	MediaGroupID string
	Other        string // a content kind no step takes: "sticker", "animation", "video", ...
	Forwarded    bool
	ForwardFrom  int64 // who wrote a forwarded message, when the forward says (0 otherwise)
	Edited       bool
}

// Contact is a shared phone contact; UserID is whose contact it is.
type Contact struct {
	Phone  string
	UserID int64
}

// Location is a shared point.
type Location struct {
	Lat, Lon float64
}

// Out is one thing the engine wants done in the chat: a message sent or
// edited, and/or a pressed button answered.
type Out struct {
	Text        string
	Buttons     [][]Button      // inline keyboard
	Reply       [][]ReplyButton // reply keyboard
	RemoveReply bool
	Edit        int  // edit this message (text and inline keyboard) instead of sending
	StripOnly   bool // with Edit: only remove the inline keyboard
	Prompt      bool // this message is the current prompt: its id is remembered

	// Album, when set, is sent first as one media group of these photo
	// file ids (sendMediaGroup takes no buttons); Text and Buttons follow
	// as their own message.
	Album []string

	// Upload, when set, is a picture made for this person (PNG or JPEG
	// bytes), sent first as a photo; Text and Buttons follow as their own
	// message.
	Upload []byte

	// Commands, when set, is the chat's command list to set (setMyCommands
	// with a per-chat scope) after this Out: it changed since last set.
	Commands []Command

	// AnswerCallback, when set, makes this Out an answer to that callback
	// query (its id) with Note as the short toast; nothing is sent.
	AnswerCallback string
	Note           string
}

// Button is an inline button.
type Button struct {
	Text string
	Data string
}

// ReplyButton is a reply keyboard button.
type ReplyButton struct {
	Text            string
	RequestContact  bool
	RequestLocation bool
}
