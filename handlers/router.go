// Package handlers routes each incoming update to the right place: a group
// chat gets one pointer to the private chat, a private chat goes to the
// conversation engine, and what comes back is sent through the platform's
// sender. It is also the one place that turns an error into what the person reads.
package handlers

import (
	"context"
	"database/sql/driver"
	"errors"
	"hash/maphash"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Sender sends to one platform.
type Sender interface {
	Send(ctx context.Context, m bot.Message) (int, error)
	AnswerCallback(ctx context.Context, callbackID, text string) error
}

// PairSender answers a button press and edits the pressed message in one
// go: the same outcome as AnswerCallback then Send, for less work.
type PairSender interface {
	AnswerAndEdit(ctx context.Context, callbackID, text string, m bot.Message) (cbErr error, id int, err error)
}

// AlbumSender sends photos as one album (sendMediaGroup: at most 10, no
// buttons). Senders without it send a lone photo as a photo and skip albums.
type AlbumSender interface {
	SendAlbum(ctx context.Context, chatID int64, fileIDs []string) error
}

// Conversations runs the guided flows.
type Conversations interface {
	Handle(ctx context.Context, k conversations.Key, in conversations.Input) ([]conversations.Out, error)
	Prompted(ctx context.Context, k conversations.Key, messageID int) error
}

// Reachability records who can no longer be written to (they blocked the
// bot), and clears it when they come back.
type Reachability interface {
	SetBlocked(ctx context.Context, platform string, userID int64, blocked bool) error
}

// Router handles updates from every platform. It implements bot.Handler.
type Router struct {
	senders map[bot.Platform]Sender
	names   map[bot.Platform]string // the bot's username per platform, for the private-chat link
	conv    Conversations
	reach   Reachability
	photos  PhotoStore // nil: photos are sent by their file ids as they are
	log     *slog.Logger
}

var _ bot.Handler = (*Router)(nil)

// Config wires a Router.
type Config struct {
	Senders       map[bot.Platform]Sender
	BotUsernames  map[bot.Platform]string
	Conversations Conversations
	Reachability  Reachability // may be nil
	Photos        PhotoStore   // may be nil: with one platform every file id is its own
	Logger        *slog.Logger
}

// NewRouter returns a Router.
func NewRouter(cfg Config) *Router {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{senders: cfg.Senders, names: cfg.BotUsernames, conv: cfg.Conversations, reach: cfg.Reachability, photos: cfg.Photos, log: log}
}

// Handle handles one update. It returns an error only when the reply could
// not be delivered for a reason worth trying again (the poller retries, and
// the engine's dedup mark turns the retry into a re-send of the reply).
func (r *Router) Handle(ctx context.Context, u bot.Update) error {
	r.log.Debug("update", slog.String("platform", string(u.Platform)), slog.Int("update_id", u.ID),
		slog.Int64("chat_id", u.ChatID), slog.String("kind", string(u.Kind)))
	s, ok := r.senders[u.Platform]
	if !ok {
		r.log.Error("handlers: no sender for platform", slog.String("platform", string(u.Platform)))
		return nil
	}
	switch {
	case u.Callback != nil && u.ChatID == 0:
		// A button on an inline-mode message: Mahalle sends none, but the
		// person's spinner must stop.
		return r.quiet(s.AnswerCallback(ctx, u.Callback.ID, ""))
	case u.Kind == bot.KindMyChatMember:
		return r.memberChange(ctx, u)
	case u.ChatType == bot.ChatGroup || u.ChatType == bot.ChatSupergroup:
		return r.group(ctx, s, u)
	case u.ChatType != bot.ChatPrivate:
		return nil // channels: Mahalle does not post there
	}
	k := conversations.Key{Platform: string(u.Platform), ChatID: u.ChatID, UserID: u.From.ID}
	r.recordPhoto(ctx, u)
	outs, err := r.conv.Handle(ctx, k, input(u))
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			// Shutting down mid-update: not handled, so it stays queued
			// and is handled after the restart.
			return ctx.Err()
		}
		if unavailable(ctx, err) {
			// A backend hung or is down: say so once, and let the update
			// be tried again later; the dedup mark makes that safe.
			r.log.Error("handlers: backend unavailable; the update will be tried again",
				slog.String("platform", string(u.Platform)), slog.Int("update_id", u.ID),
				slog.Int64("chat_id", u.ChatID), slog.Int("attempt", bot.Attempt(ctx)), slog.Any("err", err))
			if bot.Attempt(ctx) <= 1 {
				r.Unavailable(ctx, u)
			}
			return err
		}
		r.fail(ctx, s, u, err)
		return nil
	}
	return r.deliver(ctx, s, k, u, outs)
}

// unavailableSendTimeout bounds the message that says a backend is down;
// it is sent after the handler's own deadline has passed.
const unavailableSendTimeout = 5 * time.Second

// Unavailable tells the person behind u that the system is unavailable for
// now: their update is kept and handled when the backends answer again. It
// implements bot.Apologizer, for updates that cannot even be queued. It is
// quiet in groups and channels.
func (r *Router) Unavailable(ctx context.Context, u bot.Update) {
	s, ok := r.senders[u.Platform]
	if !ok || u.ChatType != bot.ChatPrivate {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unavailableSendTimeout)
	defer cancel()
	if u.Callback != nil {
		_ = r.quiet(s.AnswerCallback(ctx, u.Callback.ID, ""))
	}
	if _, err := s.Send(ctx, bot.Message{ChatID: u.ChatID, Text: msgUnavailable}); err != nil {
		r.log.Warn("handlers: send unavailable message", slog.Int("update_id", u.ID), slog.Any("err", err))
	}
}

// unavailable reports whether err means a backend did not answer in time or
// could not be reached, rather than a fault of the update itself.
func unavailable(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// memberChange notes that a person blocked the bot (or came back).
func (r *Router) memberChange(ctx context.Context, u bot.Update) error {
	if r.reach == nil || u.ChatType != bot.ChatPrivate {
		return nil
	}
	var err error
	switch u.MemberStatus {
	case "kicked":
		err = r.reach.SetBlocked(ctx, string(u.Platform), u.From.ID, true)
	case "member":
		// Telegram sends this when a person who blocked the bot restarts it:
		// the only way they can write to it again.
		err = r.reach.SetBlocked(ctx, string(u.Platform), u.From.ID, false)
	}
	if err != nil {
		r.log.Error("handlers: reachability", slog.String("platform", string(u.Platform)), slog.Int64("user_id", u.From.ID), slog.Any("err", err))
	}
	return nil
}

// group answers a command once with a pointer to the private chat, and
// otherwise stays quiet: people's suggestions do not belong in a group.
func (r *Router) group(ctx context.Context, s Sender, u bot.Update) error {
	if u.Callback != nil {
		return r.quiet(s.AnswerCallback(ctx, u.Callback.ID, ""))
	}
	if u.Command == "" {
		return nil
	}
	if target := bot.CommandTarget(u.Text); target != "" && !strings.EqualFold(target, r.names[u.Platform]) {
		return nil // "/start@otherbot": another bot's command
	}
	m := bot.Message{ChatID: u.ChatID, Text: msgOpenPrivate}
	if name := r.names[u.Platform]; name != "" {
		m.Inline = [][]bot.Button{{{Text: "گفتگوی خصوصی با ربات", URL: privateLink(u.Platform, name)}}}
	}
	_, err := s.Send(ctx, m)
	return r.quiet(err)
}

func privateLink(p bot.Platform, username string) string {
	if p == bot.Bale {
		return "https://ble.ir/" + username
	}
	return "https://t.me/" + username
}

// deliver sends what the engine decided, in order. When this is a retry of
// the update, what an earlier attempt delivered is not sent again: the
// callback answer, an edit to the same text and buttons.
func (r *Router) deliver(ctx context.Context, s Sender, k conversations.Key, u bot.Update, outs []conversations.Out) error {
	done := bot.DeliveredOf(ctx)
	defer r.setCommands(ctx, s, u, outs)
	pair, _ := s.(PairSender)
	for i := 0; i < len(outs); i++ {
		o := outs[i]
		if o.AnswerCallback != "" {
			if done.Seen("cb:" + o.AnswerCallback) {
				continue
			}
			// The press's answer and the edit that follows it, together.
			if pair != nil && i+1 < len(outs) && pairable(outs[i+1]) {
				m := message(u.ChatID, outs[i+1])
				if editKey := editKeyOf(m); !done.Seen(editKey) {
					cbErr, id, err := pair.AnswerAndEdit(ctx, o.AnswerCallback, o.Note, m)
					r.answered(done, u, o, cbErr)
					i++
					if stop, err := r.sent(ctx, done, k, u, outs[i], editKey, id, err); stop {
						return err
					}
					continue
				}
			}
			r.answered(done, u, o, s.AnswerCallback(ctx, o.AnswerCallback, o.Note))
			continue
		}
		if len(o.Upload) > 0 {
			if err := r.upload(ctx, s, u.ChatID, o.Upload); err != nil && !errors.Is(err, bot.ErrBadRequest) {
				if errors.Is(err, bot.ErrBlocked) {
					return nil
				}
				return err
			}
			if o.Text == "" {
				continue
			}
		}
		if len(o.Album) > 0 {
			if err := r.album(ctx, s, u.Platform, u.ChatID, o.Album); err != nil && !errors.Is(err, bot.ErrBadRequest) {
				if errors.Is(err, bot.ErrBlocked) {
					return nil
				}
				return err
			}
			if o.Text == "" {
				continue
			}
		}
		m := message(u.ChatID, o)
		editKey := ""
		if m.EditMessageID != 0 {
			editKey = editKeyOf(m)
			if done.Seen(editKey) {
				continue
			}
		}
		id, err := s.Send(ctx, m)
		if stop, err := r.sent(ctx, done, k, u, o, editKey, id, err); stop {
			return err
		}
	}
	return nil
}

// pairable reports whether o is a plain edit of the pressed message's text,
// which PairSender sends with the press's answer.
func pairable(o conversations.Out) bool {
	return o.Edit != 0 && o.Text != "" && !o.StripOnly && len(o.Upload) == 0 && len(o.Album) == 0 && len(o.Reply) == 0
}

// answered records what became of a callback answer. One that cannot be
// delivered only leaves a spinner on the button; the messages matter more.
func (r *Router) answered(done *bot.Delivered, u bot.Update, o conversations.Out, err error) {
	if err != nil && !errors.Is(err, bot.ErrBadRequest) {
		r.log.Warn("handlers: answer callback", slog.Int("update_id", u.ID), slog.Any("err", err))
		return
	}
	done.Mark("cb:" + o.AnswerCallback)
}

// sent records what became of o, sent as message id (an edit under
// editKey, "" for a new message) with err, and says whether delivering
// stops there, with the error to return.
func (r *Router) sent(ctx context.Context, done *bot.Delivered, k conversations.Key, u bot.Update, o conversations.Out, editKey string, id int, err error) (bool, error) {
	if err == nil && editKey != "" {
		done.Mark(editKey)
	}
	switch {
	case errors.Is(err, bot.ErrBlocked):
		return true, nil // marked unreachable by the sender; nobody to talk to
	case errors.Is(err, bot.ErrBadRequest) && o.Edit != 0:
		// The message to edit is gone or unchanged: the next one still matters.
		return false, nil
	case errors.Is(err, bot.ErrBadRequest):
		// Refused as it is: sending it again would be refused again.
		// It is a bug of ours, logged loudly; the person gets the rest.
		r.log.Error("handlers: message refused", slog.String("platform", string(u.Platform)),
			slog.Int("update_id", u.ID), slog.Int64("chat_id", u.ChatID), slog.Any("err", err))
		return false, nil
	case err != nil:
		return true, err
	}
	if o.Prompt {
		if err := r.conv.Prompted(ctx, k, id); err != nil {
			r.log.Warn("handlers: remember prompt", slog.Int("update_id", u.ID), slog.Any("err", err))
		}
	}
	return false, nil
}

// album sends the photos a prompt shows above its question: one album
// when the sender can (a photo received on another platform is uploaded),
// else a lone photo as a photo.
func (r *Router) album(ctx context.Context, s Sender, platform bot.Platform, chatID int64, ids []string) error {
	if ps, ok := s.(PhotoSender); ok {
		return r.sendPhotos(ctx, ps, platform, chatID, ids)
	}
	if as, ok := s.(AlbumSender); ok {
		return as.SendAlbum(ctx, chatID, ids)
	}
	if len(ids) == 1 {
		_, err := s.Send(ctx, bot.Message{ChatID: chatID, Photo: &bot.File{FileID: ids[0]}})
		return err
	}
	r.log.Warn("handlers: the sender cannot send an album", slog.Int("photos", len(ids)))
	return nil
}

// upload sends a picture made for the person (a QR card) as a photo.
func (r *Router) upload(ctx context.Context, s Sender, chatID int64, pic []byte) error {
	ps, ok := s.(PhotoSender)
	if !ok {
		r.log.Warn("handlers: the sender cannot upload a photo")
		return nil
	}
	_, err := ps.SendPhotos(ctx, chatID, []bot.Photo{{Data: pic}})
	return err
}

// fail is the one place an error becomes what the person reads.
func (r *Router) fail(ctx context.Context, s Sender, u bot.Update, err error) {
	text := msgInternal
	switch models.ErrorCode(err) {
	case models.EINTERNAL:
		r.log.Error("handlers: update failed", slog.String("platform", string(u.Platform)), slog.Int("update_id", u.ID),
			slog.Int64("chat_id", u.ChatID), slog.Any("err", err))
	case models.ECONFLICT:
		text = msgBusy
	case models.EFORBIDDEN:
		text = msgForbidden
	case models.ENOTFOUND:
		text = msgNotFound
	case models.EINVALID:
		text = models.ErrorMessage(err)
	}
	if u.Callback != nil {
		_ = r.quiet(s.AnswerCallback(ctx, u.Callback.ID, ""))
	}
	if _, err := s.Send(ctx, bot.Message{ChatID: u.ChatID, Text: text}); err != nil {
		r.log.Warn("handlers: send error message", slog.Int("update_id", u.ID), slog.Any("err", err))
	}
}

// quiet drops the errors that need no retry: the person blocked the bot, or
// the platform refused a request that would be refused again.
func (r *Router) quiet(err error) error {
	if errors.Is(err, bot.ErrBlocked) || errors.Is(err, bot.ErrBadRequest) {
		return nil
	}
	return err
}

// editKeyOf names an edit for bot.Delivered: the message, its text and its
// buttons, hashed (a retry compares it with the earlier attempt's).
func editKeyOf(m bot.Message) string {
	var h maphash.Hash
	h.SetSeed(editSeed)
	h.WriteString(m.Text)
	for _, row := range m.Inline {
		h.WriteByte(0)
		for _, b := range row {
			h.WriteByte(1)
			h.WriteString(b.Text)
			h.WriteByte(2)
			h.WriteString(b.Data)
			h.WriteByte(3)
			h.WriteString(b.URL)
		}
	}
	return "edit:" + strconv.Itoa(m.EditMessageID) + ":" + strconv.FormatUint(h.Sum64(), 36)
}

// editSeed seeds editKeyOf's hash: keys compare within one process only.
var editSeed = maphash.MakeSeed()

func message(chatID int64, o conversations.Out) bot.Message {
	m := bot.Message{ChatID: chatID, Text: o.Text, EditMessageID: o.Edit, RemoveReply: o.RemoveReply}
	if o.StripOnly {
		m.Text = ""
	}
	for _, row := range o.Buttons {
		br := make([]bot.Button, len(row))
		for i, b := range row {
			br[i] = bot.Button{Text: b.Text, Data: b.Data}
		}
		m.Inline = append(m.Inline, br)
	}
	for _, row := range o.Reply {
		br := make([]bot.ReplyButton, len(row))
		for i, b := range row {
			br[i] = bot.ReplyButton{Text: b.Text, RequestContact: b.RequestContact, RequestLocation: b.RequestLocation}
		}
		m.Reply = append(m.Reply, br)
	}
	return m
}

// input translates a private-chat update for the engine, normalising text.
func input(u bot.Update) conversations.Input {
	in := conversations.Input{
		UpdateID:     u.ID,
		MessageID:    u.MessageID,
		SenderID:     u.From.ID,
		SenderName:   persian.Normalize(u.From.FirstName + " " + u.From.LastName),
		Text:         persian.Normalize(u.Text),
		Command:      u.Command,
		Args:         strings.TrimSpace(u.CommandArgs),
		MediaGroupID: u.MediaGroupID,
		Other:        u.Other,
		Forwarded:    u.Forwarded,
		ForwardFrom:  u.ForwardFrom,
		Edited:       u.Kind == bot.KindEditedMessage,
	}
	if in.Command != "" {
		in.Text = ""
	}
	if u.Callback != nil {
		in.CallbackID, in.CallbackData = u.Callback.ID, u.Callback.Data
	}
	if c := u.Contact; c != nil {
		in.Contact = &conversations.Contact{Phone: c.PhoneNumber, UserID: c.UserID}
	}
	if l := u.Location; l != nil {
		in.Location = &conversations.Location{Lat: l.Latitude, Lon: l.Longitude}
	}
	if u.Photo != nil {
		in.Photo = u.Photo.FileID
	}
	if u.Voice != nil {
		in.Voice = u.Voice.FileID
	}
	if u.Document != nil {
		in.Document = u.Document.FileID
	}
	return in
}

// CommandSetter sets the command list one chat sees (setMyCommands with a
// chat scope). A sender that cannot is simply not asked.
type CommandSetter interface {
	SetChatCommands(ctx context.Context, chatID int64, cmds []bot.Command) error
}

// setCommands gives the chat the command list the engine says changed
// (a person whose roles changed). A failure only leaves the old list: it is
// logged, and set again when the list next changes.
func (r *Router) setCommands(ctx context.Context, s Sender, u bot.Update, outs []conversations.Out) {
	cs, ok := s.(CommandSetter)
	if !ok {
		return
	}
	for _, o := range outs {
		if len(o.Commands) == 0 {
			continue
		}
		cmds := make([]bot.Command, len(o.Commands))
		for i, c := range o.Commands {
			cmds[i] = bot.Command{Name: c.Command, Description: c.Description}
		}
		if err := cs.SetChatCommands(ctx, u.ChatID, cmds); err != nil {
			r.log.Warn("handlers: set chat commands", slog.Int64("chat_id", u.ChatID), slog.Any("err", err))
		}
	}
}
