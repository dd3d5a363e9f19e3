// Package bot talks to the messaging platforms (Telegram, and Bale through its
// Telegram-compatible Bot API): long polling, sending under rate limits with
// retries, and file URLs. Telegram wire types (tgbotapi.*) stay inside this
// package; the rest of Mahalle speaks the small types declared here.
package bot

// Platform names a messaging platform. Its value is short because it is part
// of every Redis key and database identity.
type Platform string

// The platforms Mahalle serves.
const (
	Telegram Platform = "tg"
	Bale     Platform = "bale"
)

// Kind says what an update carries.
type Kind string

// The update kinds Mahalle asks for in allowed_updates.
const (
	KindMessage       Kind = "message"
	KindEditedMessage Kind = "edited_message"
	KindCallback      Kind = "callback_query"
	KindMyChatMember  Kind = "my_chat_member"
)

// ChatType is the type of the chat an update came from.
type ChatType string

// Chat types as the Bot API names them.
const (
	ChatPrivate    ChatType = "private"
	ChatGroup      ChatType = "group"
	ChatSupergroup ChatType = "supergroup"
	ChatChannel    ChatType = "channel"
)

// Update is one incoming update, decoded from the Bot API into Mahalle's own
// terms. Exactly one of the content fields (Text, Contact, Location, Photo,
// Voice, Document, Callback, Other) is normally set.
type Update struct {
	Platform Platform
	ID       int // update_id; unique and increasing per bot
	Kind     Kind
	ChatID   int64
	ChatType ChatType
	From     User

	MessageID    int    // the message this update carries, or the message a callback's button sits on
	Text         string // text or caption, as sent (not yet normalised)
	Command      string // "start" for "/start@mahalle_bot arg"; empty when Text is not a command
	CommandArgs  string // "arg" for the above
	Contact      *Contact
	Location     *Location
	Photo        *File // the largest size of a photo
	Voice        *File
	Document     *File
	MediaGroupID string // set on every message of an album
	Forwarded    bool
	ForwardFrom  int64  // the user a forwarded message came from, when their privacy settings let the forward say so (0 otherwise)
	Other        string // a content kind Mahalle does not take: "sticker", "animation", "video", "video_note", "audio", "poll", "dice", ...
	Callback     *Callback

	MemberStatus string // my_chat_member: the bot's new status in the chat ("member", "kicked", ...)
}

// User is the sender of an update.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

// Contact is a shared phone contact. UserID is the Telegram user the contact
// belongs to (0 when it is not a platform user); a person's own contact has
// UserID equal to the sender's ID.
type Contact struct {
	PhoneNumber string
	FirstName   string
	LastName    string
	UserID      int64
}

// Location is a point shared by the user.
type Location struct {
	Latitude  float64
	Longitude float64
}

// File refers to a file stored by the platform.
type File struct {
	FileID       string
	FileUniqueID string
	FileSize     int
	MimeType     string
	Duration     int // seconds, for voice
}

// Callback is an inline keyboard button press.
type Callback struct {
	ID   string // callback_query id, to answer with AnswerCallback
	Data string // callback_data, 1-64 bytes
}

// Message is one outgoing message. When EditMessageID is set the message
// with that id is edited (text and inline keyboard) instead of sending a new one.
type Message struct {
	ChatID        int64
	Text          string
	Inline        [][]Button      // inline keyboard under the message
	Reply         [][]ReplyButton // reply keyboard (replaces the user's keyboard)
	RemoveReply   bool            // remove a reply keyboard shown earlier
	EditMessageID int
	Photo         *File // when set, a photo is sent with Text as its caption
}

// Button is an inline keyboard button: callback Data (1-64 bytes) or a URL.
type Button struct {
	Text string
	Data string
	URL  string
}

// ReplyButton is a reply keyboard button; it may ask for the user's contact
// or location.
type ReplyButton struct {
	Text            string
	RequestContact  bool
	RequestLocation bool
}
