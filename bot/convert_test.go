package bot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/mahalle/mahalle/bot/bottest"
)

func TestConvertUpdate(t *testing.T) {
	const (
		private = `"chat":{"id":42,"type":"private","first_name":"Ali"}`
		from    = `"from":{"id":42,"is_bot":false,"first_name":"Ali","last_name":"Ahmadi","username":"ali","language_code":"fa"}`
	)
	ali := User{ID: 42, FirstName: "Ali", LastName: "Ahmadi", Username: "ali", LanguageCode: "fa"}
	msg := func(id int, body string) string {
		return `{"update_id":` + strconv.Itoa(id) + `,"message":{"message_id":7,"date":1,` + private + `,` + from + `,` + body + `}}`
	}
	tests := []struct {
		name string
		raw  string
		want Update
	}{{
		name: "text",
		raw:  msg(1, `"text":"سلام"`),
		want: Update{ID: 1, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "سلام"},
	}, {
		name: "command with bot name and args",
		raw:  msg(2, `"text":"/start@mahalle_bot ref_12","entities":[{"type":"bot_command","offset":0,"length":18}]`),
		want: Update{ID: 2, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Text: "/start@mahalle_bot ref_12", Command: "start", CommandArgs: "ref_12"},
	}, {
		name: "command entity measured in UTF-16 after Persian args",
		raw:  msg(3, `"text":"/Report گزارش 😀","entities":[{"type":"bot_command","offset":0,"length":7}]`),
		want: Update{ID: 3, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Text: "/Report گزارش 😀", Command: "report", CommandArgs: "گزارش 😀"},
	}, {
		name: "entity too long is not a command and does not panic",
		raw:  msg(4, `"text":"/x","entities":[{"type":"bot_command","offset":0,"length":50}]`),
		want: Update{ID: 4, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "/x"},
	}, {
		name: "first entity not a command",
		raw:  msg(5, `"text":"hi /start","entities":[{"type":"bot_command","offset":3,"length":6}]`),
		want: Update{ID: 5, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "hi /start"},
	}, {
		name: "command without entities",
		raw:  msg(6, `"text":"/help\nmore"`),
		want: Update{ID: 6, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Text: "/help\nmore", Command: "help", CommandArgs: "more"},
	}, {
		name: "slash text without entities that is no command",
		raw:  msg(7, `"text":"/ نه"`),
		want: Update{ID: 7, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "/ نه"},
	}, {
		name: "own contact",
		raw:  msg(8, `"contact":{"phone_number":"+989121234567","first_name":"Ali","user_id":42}`),
		want: Update{ID: 8, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Contact: &Contact{PhoneNumber: "+989121234567", FirstName: "Ali", UserID: 42}},
	}, {
		name: "location",
		raw:  msg(9, `"location":{"latitude":34.09,"longitude":49.69}`),
		want: Update{ID: 9, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Location: &Location{Latitude: 34.09, Longitude: 49.69}},
	}, {
		name: "venue as location",
		raw:  msg(10, `"venue":{"location":{"latitude":1.5,"longitude":2.5},"title":"مسجد","address":"x"},"location":{"latitude":1.5,"longitude":2.5}`),
		want: Update{ID: 10, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Location: &Location{Latitude: 1.5, Longitude: 2.5}},
	}, {
		name: "photo album with caption takes the largest size",
		raw: msg(11, `"media_group_id":"g1","caption":"جوی آب","photo":[`+
			`{"file_id":"s","file_unique_id":"us","width":90,"height":60,"file_size":100},`+
			`{"file_id":"l","file_unique_id":"ul","width":1280,"height":853,"file_size":9000},`+
			`{"file_id":"m","file_unique_id":"um","width":320,"height":213,"file_size":1000}]`),
		want: Update{ID: 11, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Text: "جوی آب", MediaGroupID: "g1", Photo: &File{FileID: "l", FileUniqueID: "ul", FileSize: 9000}},
	}, {
		name: "voice",
		raw:  msg(12, `"voice":{"file_id":"v","file_unique_id":"uv","duration":5,"mime_type":"audio/ogg","file_size":321}`),
		want: Update{ID: 12, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Voice: &File{FileID: "v", FileUniqueID: "uv", FileSize: 321, MimeType: "audio/ogg", Duration: 5}},
	}, {
		name: "document",
		raw:  msg(13, `"document":{"file_id":"d","file_unique_id":"ud","file_name":"a.pdf","mime_type":"application/pdf","file_size":77}`),
		want: Update{ID: 13, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7,
			Document: &File{FileID: "d", FileUniqueID: "ud", FileSize: 77, MimeType: "application/pdf"}},
	}, {
		name: "animation is other, not document",
		raw:  msg(14, `"animation":{"file_id":"a","file_unique_id":"ua","width":1,"height":1,"duration":1},"document":{"file_id":"a","file_unique_id":"ua"}`),
		want: Update{ID: 14, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Other: "animation"},
	}, {
		name: "sticker",
		raw:  msg(15, `"sticker":{"file_id":"st","file_unique_id":"ust","width":512,"height":512,"is_animated":false}`),
		want: Update{ID: 15, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Other: "sticker"},
	}, {
		name: "dice",
		raw:  msg(16, `"dice":{"emoji":"🎲","value":3}`),
		want: Update{ID: 16, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Other: "dice"},
	}, {
		name: "unknown content",
		raw:  msg(17, `"story":{"chat":{"id":1,"type":"private"},"id":3}`),
		want: Update{ID: 17, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Other: "unknown"},
	}, {
		name: "forwarded, old fields",
		raw:  msg(18, `"text":"x","forward_date":1700000000,"forward_from":{"id":9,"is_bot":false,"first_name":"B"}`),
		want: Update{ID: 18, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "x", Forwarded: true, ForwardFrom: 9},
	}, {
		name: "forwarded from a user, forward_origin only (Bot API 7)",
		raw:  msg(22, `"text":"x","forward_origin":{"type":"user","sender_user":{"id":11,"is_bot":false,"first_name":"C"},"date":1700000000}`),
		want: Update{ID: 22, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "x", Forwarded: true, ForwardFrom: 11},
	}, {
		name: "forwarded, forward_origin only",
		raw:  msg(19, `"text":"x","forward_origin":{"type":"hidden_user","sender_user_name":"B","date":1700000000}`),
		want: Update{ID: 19, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "x", Forwarded: true},
	}, {
		name: "forward_origin only inside the replied-to message is not a forward",
		raw:  msg(20, `"text":"x","reply_to_message":{"message_id":1,"date":1,`+private+`,"forward_origin":{"type":"hidden_user","date":1}}`),
		want: Update{ID: 20, Kind: KindMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "x"},
	}, {
		name: "edited message",
		raw:  `{"update_id":21,"edited_message":{"message_id":7,"date":1,"edit_date":2,` + private + `,` + from + `,"text":"ویرایش"}}`,
		want: Update{ID: 21, Kind: KindEditedMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "ویرایش"},
	}, {
		name: "a message edited into a command runs none",
		raw: `{"update_id":24,"edited_message":{"message_id":7,"date":1,"edit_date":2,` + private + `,` + from +
			`,"text":"/cancel","entities":[{"type":"bot_command","offset":0,"length":7}]}}`,
		want: Update{ID: 24, Kind: KindEditedMessage, ChatID: 42, ChatType: ChatPrivate, From: ali, MessageID: 7, Text: "/cancel"},
	}, {
		name: "callback on a bot message",
		raw: `{"update_id":22,"callback_query":{"id":"cb1",` + from + `,"chat_instance":"ci","data":"role:resident",` +
			`"message":{"message_id":99,"date":1,"chat":{"id":-100123,"type":"supergroup","title":"شورا"},"text":"نقش؟"}}}`,
		want: Update{ID: 22, Kind: KindCallback, ChatID: -100123, ChatType: ChatSupergroup, From: ali, MessageID: 99,
			Callback: &Callback{ID: "cb1", Data: "role:resident"}},
	}, {
		name: "callback on an inline-mode message has no chat",
		raw:  `{"update_id":23,"callback_query":{"id":"cb2",` + from + `,"chat_instance":"ci","inline_message_id":"im","data":"d"}}`,
		want: Update{ID: 23, Kind: KindCallback, From: ali, Callback: &Callback{ID: "cb2", Data: "d"}},
	}, {
		name: "bot added to a group",
		raw: `{"update_id":24,"my_chat_member":{"chat":{"id":-5,"type":"group","title":"محله"},` + from + `,"date":1,` +
			`"old_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"M"},"status":"left"},` +
			`"new_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"M"},"status":"member"}}}`,
		want: Update{ID: 24, Kind: KindMyChatMember, ChatID: -5, ChatType: ChatGroup, From: ali, MemberStatus: "member"},
	}, {
		name: "channel post is of no kind",
		raw:  `{"update_id":25,"channel_post":{"message_id":1,"date":1,"chat":{"id":-100,"type":"channel"},"text":"x"}}`,
		want: Update{ID: 25},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertUpdate(Telegram, json.RawMessage(tt.raw))
			if err != nil {
				t.Fatalf("ConvertUpdate: %v", err)
			}
			tt.want.Platform = Telegram
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ConvertUpdate:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConvertUpdateErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"message is a number", `{"update_id":1,"message":42}`},
		{"not an object", `[1,2]`},
		{"null", `null`},
		{"empty", ``},
		{"no update_id", `{"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"x"}}`},
		{"message without chat", `{"update_id":3,"message":{"message_id":1,"date":1,"text":"x"}}`},
		{"truncated", `{"update_id":4,"message":{"message_id":1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConvertUpdate(Bale, json.RawMessage(tt.raw))
			if err == nil {
				t.Fatalf("ConvertUpdate = %+v, want an error", got)
			}
		})
	}
}

func TestConvertCommand(t *testing.T) {
	tests := []struct {
		text                 string
		length               int
		wantCommand, wantArg string
	}{
		{"/start", 6, "start", ""},
		{"/start   a b  ", 6, "start", "a b"},
		{"/start@bot", 10, "start", ""},
		{"/@bot", 5, "", ""},
		{"/", 1, "", ""},
		{"/😀x", 2, "", ""}, // the entity ends inside a surrogate pair
		{"/a\xffb", 4, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			gotCommand, gotArg := convertCommand(tt.text, []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: tt.length}})
			if gotCommand != tt.wantCommand || gotArg != tt.wantArg {
				t.Errorf("convertCommand(%q) = %q, %q; want %q, %q", tt.text, gotCommand, gotArg, tt.wantCommand, tt.wantArg)
			}
		})
	}
}

// FuzzConvertUpdate checks that no input makes ConvertUpdate panic, and that
// a converted update keeps its platform and a positive id.
func FuzzConvertUpdate(f *testing.F) {
	for _, s := range convertSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		assertSameDecode(t, raw)
		got, err := ConvertUpdate(Telegram, raw)
		if err != nil {
			return
		}
		if got.Platform != Telegram || got.ID <= 0 {
			t.Errorf("ConvertUpdate(%q) = %+v without error", raw, got)
		}
		// The callback short path agrees with the full decode whenever
		// that decodes (it may accept a button whose message the full
		// decode refuses over a field Mahalle does not read).
		if full, err := convertFull(Telegram, raw); err == nil && !reflect.DeepEqual(got, full) {
			t.Errorf("ConvertUpdate(%q) = %+v, the full decode %+v", raw, got, full)
		}
	})
}

var convertSeeds = []string{
	`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"/start x","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
	`{"update_id":2,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"/é","entities":[{"type":"bot_command","offset":0,"length":99}]}}`,
	`{"update_id":3,"callback_query":{"id":"x","from":{"id":1,"first_name":"a"},"data":"d","message":{"message_id":2,"date":1,"chat":{"id":1,"type":"private"}}}}`,
	`{"update_id":4,"my_chat_member":{"chat":{"id":-1,"type":"group"},"from":{"id":1},"date":1,"old_chat_member":{"status":"left"},"new_chat_member":{"status":"member"}}}`,
	`{"update_id":5,"edited_message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"photo":[],"forward_origin":null}}`,
	`{"update_id":6,"message":{"message_id":1,"chat":{"id":1},"photo":[{"file_id":"a"},{"file_id":"b","width":-3,"height":2}],"forward_origin":{}}}`,
	`{"update_id":7,"message":42}`,
	`{"update_id":8,"channel_post":{"message_id":1,"date":1,"chat":{"id":-1,"type":"channel"}}}`,
	`null`, `[]`, `"x"`, ``,
}

// TestConvertUpdateDecoders: the update decoder (goccy/go-json) converts
// the fuzz seeds and the updates the fake Bot API sends as encoding/json
// does. FuzzConvertUpdate checks the same on any input.
func TestConvertUpdateDecoders(t *testing.T) {
	srv := bottest.NewServer()
	defer srv.Close()
	chat, zahra := bottest.Private(42)
	zahra.FirstName, zahra.LastName = "زهرا", "احمدی"
	srv.SendText(chat, zahra, "/start x")
	srv.SendText(chat, zahra, "سلام \"دنیا\" 🌱\n<b>")
	srv.SendContact(chat, zahra, "+989121234567", zahra.ID)
	srv.SendLocation(chat, zahra, 35.7, 51.4)
	srv.SendPhoto(chat, zahra, "عکس", "")
	srv.SendVoice(chat, zahra, 3)
	resp, err := http.Post(fmt.Sprintf(srv.Endpoint(), srv.Token(), "getUpdates"), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var a pollAnswer
	if err != nil || !splitUpdates(body, &a) || len(a.Result) != 6 {
		t.Fatalf("getUpdates: %v, %d updates in %s", err, len(a.Result), body)
	}
	inputs := a.Result
	for _, s := range convertSeeds {
		inputs = append(inputs, json.RawMessage(s))
	}
	for _, raw := range inputs {
		assertSameDecode(t, raw)
	}
}

// assertSameDecode fails when raw converts differently through
// encoding/json than through the decoder ConvertUpdate uses, where
// encoding/json converts it at all.
func assertSameDecode(t *testing.T, raw []byte) {
	t.Helper()
	want, err := convertWith(json.Unmarshal, raw)
	if err != nil || !utf8.Valid(raw) {
		return // refused by encoding/json, or text it would have mended: Telegram sends neither
	}
	got, err := ConvertUpdate(Telegram, raw)
	if err != nil {
		t.Errorf("ConvertUpdate(%q): %v; encoding/json converts it to %+v", raw, err, want)
	} else if !reflect.DeepEqual(got, want) {
		t.Errorf("ConvertUpdate(%q) = %+v; through encoding/json %+v", raw, got, want)
	}
}

// convertWith is ConvertUpdate with another JSON decoder.
func convertWith(dec func([]byte, any) error, raw []byte) (Update, error) {
	saved := unmarshal
	unmarshal = dec
	defer func() { unmarshal = saved }()
	return ConvertUpdate(Telegram, raw)
}

// TestConvertCallbackFastPath: a callback query's update converts the same
// through the short decode as through the full one, the message the button
// sits on included or not; anything else is left to the full decode.
func TestConvertCallbackFastPath(t *testing.T) {
	button := `"reply_markup":{"inline_keyboard":[[{"text":"بله","callback_data":"y"},{"text":"خیر","callback_data":"n"}]]}`
	cases := []string{
		`{"update_id":3,"callback_query":{"id":"x","from":{"id":1,"first_name":"a","last_name":"b","username":"u","language_code":"fa"},"chat_instance":"c","data":"d","message":{"message_id":2,"date":1,"chat":{"id":1,"type":"private"},"text":"سلام",` + button + `}}}`,
		`{"update_id":4,"callback_query":{"id":"x","from":{"id":9},"data":"d","message":{"message_id":5,"date":0,"chat":{"id":-100,"type":"supergroup","title":"t"}}}}`,
		`{"update_id":5,"callback_query":{"id":"x","from":{"id":9},"inline_message_id":"im","data":"d"}}`,
		`{"update_id":6,"callback_query":{"id":"x","from":{"id":9},"data":"d","message":{"message_id":5}}}`,
		`{"update_id":7,"callback_query":{"id":"x","data":"d"}}`,
		`{"update_id":8,"callback_query":null}`,
		`{"update_id":9,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"\"callback_query\""}}`,
		`{"update_id":10,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"x"},"callback_query":{"id":"x","data":"d"}}`,
		`{"update_id":0,"callback_query":{"id":"x","data":"d"}}`,
	}
	for _, raw := range cases {
		got, gotErr := ConvertUpdate(Telegram, json.RawMessage(raw))
		want, wantErr := convertFull(Telegram, json.RawMessage(raw))
		if (gotErr != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("ConvertUpdate(%s)\n = %+v, %v\nwant %+v, %v", raw, got, gotErr, want, wantErr)
		}
	}
}

// TestConvertUpdateDecoderPanics: when the fast decoder panics on an
// update, encoding/json decodes it instead, and ConvertUpdate neither
// panics nor loses the update.
func TestConvertUpdateDecoderPanics(t *testing.T) {
	saved := unmarshal
	defer func() { unmarshal = saved }()
	unmarshal = func(b []byte, v any) error {
		_ = json.Unmarshal([]byte(`{"update_id":999}`), v) // half a decode, then the panic
		panic("decoder bug")
	}
	for _, raw := range []string{convertSeeds[0], convertSeeds[2]} {
		got, err := ConvertUpdate(Telegram, json.RawMessage(raw))
		unmarshal = json.Unmarshal
		want, _ := ConvertUpdate(Telegram, json.RawMessage(raw))
		unmarshal = func(b []byte, v any) error { panic("decoder bug") }
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ConvertUpdate(%s) with a panicking decoder = %+v, %v; want %+v", raw, got, err, want)
		}
	}
}
