package bot

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
)

// renderedPart is what a test compares of a sendPart.
type renderedPart struct {
	method   string
	text     string // text or caption
	buttons  [][]string
	remove   bool // an edit that removes the keyboard
	target   int  // edited message
	fileName string
	file     string
}

func describePart(t *testing.T, p sendPart) renderedPart {
	t.Helper()
	r := renderedPart{method: p.method()}
	var markup models.ReplyMarkup
	var upload *models.InputFileUpload
	switch {
	case p.message != nil:
		r.text, markup = p.message.Text, p.message.ReplyMarkup
		if p.message.ParseMode != "" {
			t.Errorf("message has parse mode %q; want plain text", p.message.ParseMode)
		}
	case p.photo != nil:
		r.text, markup = p.photo.Caption, p.photo.ReplyMarkup
		upload, _ = p.photo.Photo.(*models.InputFileUpload)
		if p.photo.ParseMode != "" {
			t.Errorf("photo has parse mode %q", p.photo.ParseMode)
		}
	case p.document != nil:
		r.text, markup = p.document.Caption, p.document.ReplyMarkup
		upload, _ = p.document.Document.(*models.InputFileUpload)
	case p.edit != nil:
		r.target, markup = p.edit.MessageID, p.edit.ReplyMarkup
		if markup == nil {
			t.Errorf("edit without reply_markup")
		}
	}
	if upload != nil {
		r.fileName = upload.Filename
		b, err := io.ReadAll(upload.Data)
		if err != nil {
			t.Fatal(err)
		}
		r.file = string(b)
	}
	if ik, ok := markup.(*models.InlineKeyboardMarkup); ok {
		if len(ik.InlineKeyboard) == 0 {
			r.remove = true
		}
		for _, row := range ik.InlineKeyboard {
			var labels []string
			for _, b := range row {
				labels = append(labels, b.Text+"="+b.CallbackData)
			}
			r.buttons = append(r.buttons, labels)
		}
	} else if markup != nil {
		t.Errorf("reply markup of type %T", markup)
	}
	return r
}

func TestRenderEnvelope(t *testing.T) {
	yesNo := [][]dialogs.Button{{{Label: "Ja", Data: "5:yes"}, {Label: "Nee", Data: "5:no"}}}
	long := strings.Repeat("x", maxCallbackData+1)
	para := func(c string) string { return strings.Repeat(c, 3000) }
	longCaption := strings.Repeat("w ", 600) // 1200 characters

	tests := []struct {
		name        string
		kind        string
		env         conversation.Envelope
		remote      int64
		want        []renderedPart
		wantDropped int
		wantErr     error
	}{
		{
			name: "text with buttons",
			kind: conversation.KindMessage,
			env:  conversation.Envelope{Text: "Hoe voel je je nu? *niet vet*", Buttons: yesNo, Prompt: 5},
			want: []renderedPart{{method: methodSendMessage, text: "Hoe voel je je nu? *niet vet*", buttons: [][]string{{"Ja=5:yes", "Nee=5:no"}}}},
		},
		{
			name: "text without buttons has no markup",
			kind: conversation.KindMessage,
			env:  conversation.Envelope{Text: "Fijn."},
			want: []renderedPart{{method: methodSendMessage, text: "Fijn."}},
		},
		{
			name: "too long callback data dropped, empty row removed",
			kind: conversation.KindMessage,
			env: conversation.Envelope{Text: "Kies", Buttons: [][]dialogs.Button{
				{{Label: "Lang", Data: long}},
				{{Label: "Kort", Data: "5:a"}, {Label: "Leeg", Data: ""}},
			}},
			want:        []renderedPart{{method: methodSendMessage, text: "Kies", buttons: [][]string{{"Kort=5:a"}}}},
			wantDropped: 2,
		},
		{
			name:        "all buttons dropped leaves no markup",
			kind:        conversation.KindMessage,
			env:         conversation.Envelope{Text: "Kies", Buttons: [][]dialogs.Button{{{Label: "Lang", Data: long}}}},
			want:        []renderedPart{{method: methodSendMessage, text: "Kies"}},
			wantDropped: 1,
		},
		{
			name: "long text split on paragraphs, buttons on the last",
			kind: conversation.KindMessage,
			env:  conversation.Envelope{Text: para("a") + "\n\n" + para("b") + "\n\n" + para("c"), Buttons: yesNo},
			want: []renderedPart{
				{method: methodSendMessage, text: para("a")},
				{method: methodSendMessage, text: para("b")},
				{method: methodSendMessage, text: para("c"), buttons: [][]string{{"Ja=5:yes", "Nee=5:no"}}},
			},
		},
		{
			name:   "edit without buttons removes the keyboard",
			kind:   conversation.KindEdit,
			env:    conversation.Envelope{Prompt: 5},
			remote: 42,
			want:   []renderedPart{{method: methodEditMarkup, target: 42, remove: true}},
		},
		{
			name:   "edit with buttons replaces the keyboard",
			kind:   conversation.KindEdit,
			env:    conversation.Envelope{Prompt: 5, Buttons: [][]dialogs.Button{{{Label: "✓ Ja", Data: "5:yes"}}}},
			remote: 42,
			want:   []renderedPart{{method: methodEditMarkup, target: 42, buttons: [][]string{{"✓ Ja=5:yes"}}}},
		},
		{
			name:    "edit of an unknown message",
			kind:    conversation.KindEdit,
			env:     conversation.Envelope{Prompt: 5},
			wantErr: errNoPrompt,
		},
		{
			name: "photo with caption and buttons",
			kind: conversation.KindPhoto,
			env:  conversation.Envelope{Text: "Je week", File: []byte("PNG"), Buttons: yesNo},
			want: []renderedPart{{method: methodSendPhoto, text: "Je week", fileName: "chart.png", file: "PNG", buttons: [][]string{{"Ja=5:yes", "Nee=5:no"}}}},
		},
		{
			name: "photo with a caption too long goes before the text",
			kind: conversation.KindPhoto,
			env:  conversation.Envelope{Text: longCaption, File: []byte("PNG"), FileName: "week.png", Buttons: yesNo},
			want: []renderedPart{
				{method: methodSendPhoto, fileName: "week.png", file: "PNG"},
				{method: methodSendMessage, text: longCaption, buttons: [][]string{{"Ja=5:yes", "Nee=5:no"}}},
			},
		},
		{
			name: "document",
			kind: conversation.KindDocument,
			env:  conversation.Envelope{Text: "Je gegevens", File: []byte("{}"), FileName: "export.json"},
			want: []renderedPart{{method: methodSendDoc, text: "Je gegevens", fileName: "export.json", file: "{}"}},
		},
		{name: "empty text", kind: conversation.KindMessage, env: conversation.Envelope{Text: " \n"}, wantErr: errEmptyMessage},
		{name: "photo without file", kind: conversation.KindPhoto, env: conversation.Envelope{Text: "x"}, wantErr: errNoFile},
		{name: "unknown kind", kind: "sticker", env: conversation.Envelope{Text: "x"}, wantErr: errUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dropped := 0
			parts, err := renderEnvelope(tt.kind, 77, tt.env, tt.remote, func(row, col, size int) {
				dropped++
				if size <= maxCallbackData && size != 0 {
					t.Errorf("button %d,%d of %d bytes dropped", row, col, size)
				}
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("render error = %v, want %v", err, tt.wantErr)
			}
			if dropped != tt.wantDropped {
				t.Errorf("dropped %d buttons, want %d", dropped, tt.wantDropped)
			}
			if len(parts) != len(tt.want) {
				t.Fatalf("rendered %d parts, want %d", len(parts), len(tt.want))
			}
			for i, p := range parts {
				got := describePart(t, p)
				if !equalRendered(got, tt.want[i]) {
					t.Errorf("part %d = %+v\nwant %+v", i, abbreviate(got), abbreviate(tt.want[i]))
				}
				if chat := partChat(p); chat != any(int64(77)) {
					t.Errorf("part %d goes to chat %v", i, chat)
				}
			}
		})
	}
}

func partChat(p sendPart) any {
	switch {
	case p.message != nil:
		return p.message.ChatID
	case p.photo != nil:
		return p.photo.ChatID
	case p.document != nil:
		return p.document.ChatID
	case p.edit != nil:
		return p.edit.ChatID
	}
	return nil
}

func equalRendered(a, b renderedPart) bool {
	if a.method != b.method || a.text != b.text || a.remove != b.remove || a.target != b.target ||
		a.fileName != b.fileName || a.file != b.file || len(a.buttons) != len(b.buttons) {
		return false
	}
	for i := range a.buttons {
		if strings.Join(a.buttons[i], "|") != strings.Join(b.buttons[i], "|") {
			return false
		}
	}
	return true
}

func abbreviate(r renderedPart) renderedPart {
	if len(r.text) > 40 {
		r.text = r.text[:20] + "…" + r.text[len(r.text)-20:]
	}
	return r
}

// Each render gives a fresh upload reader: a retry sends the whole file.
func TestRenderFreshUpload(t *testing.T) {
	env := conversation.Envelope{Text: "x", File: []byte("PNGDATA")}
	for try := range 2 {
		parts, err := renderEnvelope(conversation.KindPhoto, 1, env, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := describePart(t, parts[0]).file; got != "PNGDATA" {
			t.Errorf("try %d uploads %q", try, got)
		}
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{name: "fits", text: "een\n\ntwee", limit: 20, want: []string{"een\n\ntwee"}},
		{name: "exactly the limit", text: "abcde", limit: 5, want: []string{"abcde"}},
		{name: "paragraphs packed", text: "aa\n\nbb\n\ncc\n\ndd", limit: 6, want: []string{"aa\n\nbb", "cc\n\ndd"}},
		{name: "lines when a paragraph is too long", text: "aaa\nbbb\nccc\n\nd", limit: 7, want: []string{"aaa\nbbb", "ccc", "d"}},
		{name: "words when a line is too long", text: "een twee drie vier", limit: 9, want: []string{"een twee", "drie vier"}},
		{name: "inside a word only when it must", text: "abcdefghij kl", limit: 4, want: []string{"abcd", "efgh", "ij", "kl"}},
		{name: "emoji count two", text: "😀😀😀", limit: 4, want: []string{"😀😀", "😀"}},
		{name: "blank pieces left out", text: "a\n\n\n\n   \n\nb", limit: 2, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.text, tt.limit)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("splitText(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
			}
			for _, piece := range got {
				if n := utf16Len(piece); n > tt.limit {
					t.Errorf("piece %q is %d long, over %d", piece, n, tt.limit)
				}
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("een\n\ntwee drie", 5)
	f.Add("😀 ab\ncd", 2)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 2 || limit > 100 {
			return
		}
		pieces := splitText(text, limit)
		var kept strings.Builder
		for _, p := range pieces {
			if n := utf16Len(p); n > limit {
				t.Fatalf("piece of %d over limit %d", n, limit)
			}
			if strings.TrimSpace(p) == "" {
				t.Fatalf("blank piece")
			}
			kept.WriteString(p)
		}
		// Only white space is lost at the cuts.
		strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if strip(kept.String()) != strip(strings.ToValidUTF8(text, "\uFFFD")) && strip(kept.String()) != strip(text) {
			t.Fatalf("text changed: %q -> %q", text, pieces)
		}
	})
}
