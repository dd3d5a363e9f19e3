package bottest_test

import (
	"context"
	"fmt"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/mahalle/mahalle/bot/bottest"
)

// A user writes /start, the bot answers with a button, the user presses it.
func Example() {
	srv := bottest.New(nil, bottest.WithLongPollCap(time.Second))
	defer srv.Close()
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(srv.Token(), srv.Endpoint())
	if err != nil {
		panic(err)
	}

	chat, user := bottest.Private(42)
	srv.SendText(chat, user, "/start")

	updates, _ := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
	msg := tgbotapi.NewMessage(updates[0].Message.Chat.ID, "خوش آمدید")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("ثبت گزارش", "report")))
	sent, _ := bot.Send(msg)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, _ := srv.WaitSent(ctx, chat.ID, 1)
	fmt.Println(got[0].Method, got[0].Text, got[0].Inline[0][0].CallbackData)

	press, _ := srv.PressButtonText(chat, user, sent.MessageID, "ثبت گزارش")
	updates, _ = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: updates[0].UpdateID + 1})
	fmt.Println(updates[0].UpdateID == press, updates[0].CallbackQuery.Data)
	// Output:
	// sendMessage خوش آمدید report
	// true report
}
