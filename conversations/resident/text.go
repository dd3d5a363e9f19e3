package resident

// What the residents' flows say, in Persian, kept together so the wording
// is reviewed in one place. Every line starts with a Persian word.

// Menu labels and flow titles.
const (
	titleFeed    = "کارهای شورای محله"
	titleRoster  = "اعضای شورا"
	titleHome    = "محلهٔ من"
	titleMine    = "پیشنهادهای من"
	titleTrack   = "پیگیری پیشنهاد با کد"
	titleResolve = "مشکل حل شد؟"
	titleConfirm = "تأیید انجام کار"
	titleComment = "نظر دربارهٔ کار"
	titleUnsub   = "لغو خبرهای محله"

	menuFeed    = "کارهای شورای محله"
	menuRoster  = "اعضای شورا"
	menuSuggest = "ارسال پیشنهاد"
	menuMine    = "پیشنهادهای من"
	menuTrack   = "پیگیری پیشنهاد"
	menuHome    = "محلهٔ من"
)

// The feed.
const (
	msgFeedView        = "کدام کارها را می‌خواهید ببینید؟"
	optViewPlace       = "کارهای همین محله"
	optViewCounty      = "کارهای همهٔ شهرستان %s"
	optViewCommittee   = "کارهای یک کارگروه در این محله"
	msgFeedCommittee   = "کارهای کدام کارگروه؟"
	msgFeedPick        = "برای دیدن جزئیات هر کار، دکمهٔ آن را بزنید."
	msgFeedHeadPlace   = "کارهای تأییدشدهٔ شورای %s: %s کار، تازه‌ترین اول."
	msgFeedHeadCounty  = "کارهای تأییدشدهٔ شوراهای شهرستان %s: %s کار، تازه‌ترین اول."
	msgFeedHeadCmte    = "کارهای تأییدشدهٔ کارگروه «%s» در %s: %s کار، تازه‌ترین اول."
	msgFeedEmptyPlace  = "شورای پیشرفت %s هنوز کار تأییدشده‌ای ندارد.\nاگر پیشنهادی برای محله دارید، «ارسال پیشنهاد» را در منو بزنید تا به شورا برسد."
	msgFeedEmptyCounty = "در شهرستان %s هنوز کار تأییدشده‌ای ثبت نشده است.\nاگر پیشنهادی برای محله دارید، «ارسال پیشنهاد» را در منو بزنید تا به شورا برسد."
	msgFeedEmptyCmte   = "کارگروه «%s» در %s هنوز کار تأییدشده‌ای ندارد.\nاگر پیشنهادی در این زمینه دارید، «ارسال پیشنهاد» را در منو بزنید."
	msgPlaceHeader     = "محله: %s (شهرستان %s، استان %s)"
	msgNoPlace         = "این محله پیدا نشد؛ لطفاً از منو دوباره شروع کنید."
	msgUnconfirmed     = "تأییدنشده"

	msgConfirmedBy   = "%s نفر تأیید کرده‌اند"
	msgConfirmedNone = "هنوز کسی انجام آن را تأیید نکرده است"
	msgPartly        = "%s نفر گفته‌اند تا حدی انجام شده"
	msgNotDone       = "%s نفر گفته‌اند انجام نشده"
	msgComments      = "%s نظر"

	linkConfirm  = "✅ تأیید انجام این کار"
	linkComment  = "💬 نوشتن نظر"
	linkBackFeed = "📋 بازگشت به کارهای شورا"
)

// The roster and «محلهٔ من».
const (
	msgRosterWhose   = "اعضای شورای کدام محله را می‌خواهید ببینید؟"
	optRosterHome    = "محلهٔ من: %s"
	optRosterOther   = "محله‌ای دیگر"
	msgRosterHead    = "اعضای شورای پیشرفت %s:"
	msgRosterEmpty   = "فهرست اعضای شورای پیشرفت %s هنوز در سامانه ثبت نشده است."
	msgRosterNoPhone = "شمارهٔ تلفن اعضا نشان داده نمی‌شود؛ پیشنهادتان را با «ارسال پیشنهاد» به شورا بفرستید."

	msgHomeIs      = "محلهٔ من: %s (شهرستان %s، استان %s)"
	msgHomeSubOn   = "خبر کارهای تازهٔ شورا: روزی یک بار برایتان فرستاده می‌شود."
	msgHomeSubOff  = "خبر کارهای تازهٔ شورا: فرستاده نمی‌شود."
	msgHomeAsk     = "چه کاری انجام دهم؟"
	optHomeChange  = "تغییر محلهٔ من"
	optHomeSub     = "خبر کارهای تازه را بفرست"
	optHomeUnsub   = "دیگر خبر نفرست"
	msgHomeSet     = "محلهٔ من شد: %s (شهرستان %s).\nاز این پس «کارهای شورای محله» و «اعضای شورا» همین محله را نشان می‌دهند."
	msgSubscribed  = "از این پس هر روزی که شورای %s کار تأییدشدهٔ تازه‌ای داشته باشد، یک پیام خبر برایتان می‌آید.\nزیر هر خبر دکمهٔ لغو هست."
	msgUnsubbed    = "دیگر خبر کارهای شورای %s برایتان فرستاده نمی‌شود."
	msgUnsubIntro  = "دیگر خبر کارهای تازهٔ شورای %s برایتان فرستاده نمی‌شود."
	msgUnsubUndo   = "اگر اشتباه زدید، «دوباره بفرست» را بزنید."
	optResubscribe = "دوباره بفرست"
	linkFeed       = "📋 کارهای شورای محله"
	linkRoster     = "👥 اعضای شورا"
)

// Suggestions: the list, tracking, withdrawing and «مشکل حل شد؟».
const (
	msgMineNone     = "هنوز پیشنهادی نفرستاده‌اید. با «ارسال پیشنهاد» در منو می‌توانید پیشنهاد، شکایت یا نظرتان را برای شورا بفرستید."
	msgMineHead     = "پیشنهادهای شما: %s پیشنهاد، تازه‌ترین اول."
	msgMinePick     = "برای دیدن کامل هر پیشنهاد و پاسخ آن، دکمه‌اش را بزنید."
	msgMineItem     = "%s. پیشنهاد %s برای %s\nوضعیت: %s\nآخرین تغییر: %s"
	msgNotYours     = "این پیشنهاد در فهرست پیشنهادهای شما نیست."
	msgTrackAsk     = "کد پیگیری پیشنهاد را بنویسید (مثلاً S-4F7K2):"
	msgTrackNone    = "پیشنهادی با کد «%s» پیدا نشد. کد را دوباره بررسی کنید."
	msgTrackMine    = "برای پس گرفتن این پیشنهاد یا پاسخ به «مشکل حل شد؟»، «پیشنهادهای من» را در منو بزنید."
	msgSgHead       = "پیشنهاد با کد پیگیری %s"
	msgSgPlace      = "محله: %s"
	msgSgTopic      = "موضوع: %s"
	msgSgTopicNone  = "سایر / نمی‌دانم"
	msgSgText       = "متن: %s"
	msgSgVoice      = "متن: پیام صوتی"
	msgSgStatus     = "وضعیت: %s"
	msgSgSent       = "ثبت: %s"
	msgSgHistory    = "روند رسیدگی:"
	msgSgAnswer     = "پاسخ شورا: %s"
	msgSgAsk        = "یکی از دکمه‌های زیر را بزنید:"
	optWithdraw     = "پس گرفتن پیشنهاد"
	optSolved       = "مشکل حل شد"
	optUnsolved     = "مشکل حل نشد"
	optMenu         = "بازگشت به منو"
	msgNoteAsk      = "چه چیزی هنوز حل نشده است؟ یادداشت شما همراه پیشنهاد به شورا برمی‌گردد.\nاگر یادداشتی ندارید «رد کردن» را بزنید."
	msgWithdrawn    = "پیشنهاد %s پس گرفته شد و دیگر به آن رسیدگی نمی‌شود."
	msgClosedThanks = "سپاس از پاسخ شما! پیشنهاد %s بسته شد."
	msgReopened     = "پیشنهاد %s دوباره باز شد و به شورا برگشت. هر تغییری در آن را همین‌جا خبر می‌دهیم."
	msgResolveLate  = "این پیشنهاد اکنون در وضعیت «%s» است و پرسش «مشکل حل شد؟» برای آن نیست."

	evWithdraw = "پس گرفته شد"
	evReopen   = "فرستنده گفت مشکل حل نشده است"
	evResolved = "فرستنده گفت مشکل حل شد"
	evAssign   = "به کارگروه سپرده شد"
)

// Taking part: confirmations, comments and limits.
const (
	msgConfirmAsk   = "آیا این کار واقعاً انجام شده است؟"
	optYes          = "بله، انجام شده"
	optPartly       = "تا حدی"
	optNo           = "نه، انجام نشده"
	msgConfirmPhoto = "اگر عکسی از آن دارید بفرستید؛ وگرنه «رد کردن» را بزنید."
	msgConfirmed    = "سپاس! پاسخ شما ثبت شد.\nتا اکنون %s."
	msgConfirmNoPic = "گزارش شما با عکس به هماهنگ‌کنندهٔ شهرستان هم می‌رسد."
	msgCommentAsk   = "نظر خود را دربارهٔ این کار بنویسید (۲ تا ۱۰۰۰ حرف):"
	msgCommented    = "سپاس! نظر شما دربارهٔ «%s» ثبت شد."
	msgActionOf     = "کار «%s» در %s، %s"
	msgNoAction     = "این کار پیدا نشد یا هنوز تأیید نشده است."
	msgLimited      = "برای اینکه به پیام همه رسیدگی شود، هر نفر در هر ساعت تا %s و در هر روز تا %s پیشنهاد، نظر یا تأیید می‌فرستد.\nاز %s دوباره می‌توانید بفرستید."
)
