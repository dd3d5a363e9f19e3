package bottest

// PressInlineButton queues a callback_query update from a button on an
// inline-mode message: the query has inline_message_id and no message, so
// no chat. Its id is CallbackQueryID(update id), answered as any other.
func (s *Server) PressInlineButton(from User, inlineMessageID, data string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpdateID
	qid := CallbackQueryID(id)
	s.queries[qid] = &query{updateID: id}
	b := beginUpdate(id, "callback_query")
	b = append(b, `{"id":`...)
	b = appendString(b, qid)
	b = append(b, `,"from":`...)
	b = appendUser(b, from, false)
	b = append(b, `,"inline_message_id":`...)
	b = appendString(b, inlineMessageID)
	b = append(b, `,"chat_instance":"inline","data":`...)
	b = appendString(b, data)
	b = append(b, '}', '}')
	return s.push(id, "callback_query", b)
}
