package bottest

// Real files from a person: the playground's page uploads what a browser
// records or picks, where the other Send* methods make up the bytes.

// SendPhotoData queues a photo whose bytes are data (a PNG or JPEG), with an
// optional caption; messages sharing a mediaGroupID form an album. The same
// bytes stand for every size. FileID(updateID) is the largest size.
func (s *Server) SendPhotoData(chat Chat, from User, data []byte, mimeType, caption, mediaGroupID string) int {
	if mimeType == "" {
		mimeType = "image/jpeg"
	}
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		sizes := make([]*file, len(photoDims))
		for i := range sizes {
			sizes[i] = s.newFile("photos", ".jpg", "", mimeType, data)
		}
		s.setUpdateFile(id, sizes[len(sizes)-1])
		b = append(b, ',')
		b = appendPhotoSizes(b, sizes, photoDims)
		b = appendField(b, "caption", caption)
		return appendField(b, "media_group_id", mediaGroupID)
	})
}

// SendVoiceData queues a voice message of the given length whose bytes are
// data, in mimeType (audio/ogg, audio/webm, ...).
func (s *Server) SendVoiceData(chat Chat, from User, data []byte, mimeType string, seconds int) int {
	if mimeType == "" {
		mimeType = "audio/ogg"
	}
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		f := s.newFile("voice", ".oga", "", mimeType, data)
		s.setUpdateFile(id, f)
		b = append(b, `,"voice":{`...)
		b = appendFileFields(b, f)
		b = appendIntField(b, "duration", int64(seconds))
		b = appendField(b, "mime_type", f.mime)
		return append(b, '}')
	})
}

// FileInfo is a stored file's name (documents only), MIME type and bytes.
type FileInfo struct {
	Name string
	MIME string
	Data []byte
}

// File returns the file stored under fileID: one a user sent or one the
// bot uploaded; false when there is none.
func (s *Server) File(fileID string) (FileInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return FileInfo{}, false
	}
	return FileInfo{Name: f.name, MIME: f.mime, Data: f.data}, true
}
