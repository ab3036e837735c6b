package fakebotapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// parseRequest reads the parameters of a Bot API request the ways Telegram
// accepts them: the query string, and a body that is multipart/form-data (what
// go-telegram/bot sends), application/json or
// application/x-www-form-urlencoded. Values that are JSON objects or arrays
// (reply_markup, allowed_updates, commands) stay JSON text, as in a form.
func parseRequest(w http.ResponseWriter, r *http.Request, maxBytes int64) (map[string]string, map[string]*File, error) {
	params := map[string]string{}
	var files map[string]*File
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		return params, nil, fmt.Errorf("can't read the request body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil, nil
	}
	mediaType, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return params, files, fmt.Errorf("can't parse multipart form: %w", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return params, files, fmt.Errorf("can't parse multipart form: %w", err)
			}
			if part.FileName() != "" {
				if files == nil {
					files = map[string]*File{}
				}
				files[part.FormName()] = &File{
					Field:       part.FormName(),
					Name:        part.FileName(),
					ContentType: part.Header.Get("Content-Type"),
					Data:        data,
				}
				continue
			}
			params[part.FormName()] = string(data)
		}
	case "application/json":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return params, nil, fmt.Errorf("can't parse JSON body: %w", err)
		}
		for k, raw := range obj {
			raw = bytes.TrimSpace(raw)
			switch {
			case bytes.Equal(raw, []byte("null")):
			case len(raw) > 0 && raw[0] == '"':
				var str string
				if err := json.Unmarshal(raw, &str); err != nil {
					return params, nil, fmt.Errorf("can't parse JSON body: %w", err)
				}
				params[k] = str
			default:
				params[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return params, nil, fmt.Errorf("can't parse form body: %w", err)
		}
		for k, v := range vals {
			if len(v) > 0 {
				params[k] = v[0]
			}
		}
	default:
		return params, nil, fmt.Errorf("unsupported Content-Type %q", mediaType)
	}
	return params, files, nil
}

// intParam reads an optional integer parameter.
func intParam(p map[string]string, name string) (int64, bool, error) {
	v, ok := p[name]
	if !ok || strings.TrimSpace(v) == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("wrong parameter %s", name)
	}
	return n, true, nil
}

func boolParam(p map[string]string, name string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(p[name]))
	return b
}

// chatIDParam reads chat_id; channel usernames ("@name") are not supported.
func chatIDParam(p map[string]string) (int64, *reply) {
	v := strings.TrimSpace(p["chat_id"])
	if v == "" {
		r := badRequest("chat_id is empty")
		return 0, &r
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		r := badRequest("chat not found")
		return 0, &r
	}
	return id, nil
}

// stringList parses a JSON array of strings such as allowed_updates.
func stringList(v string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// markup is a decoded reply_markup.
type markup struct {
	raw      string
	inline   string // canonical JSON of {"inline_keyboard":...}, "" when absent
	buttons  [][]Button
	keyboard [][]string
	remove   bool
}

// inlineActionKeys are the fields that give an inline button something to do
// besides callback_data, url and copy_text (checked separately).
var inlineActionKeys = []string{
	"web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
	"switch_inline_query_chosen_chat", "callback_game",
}

const errMarkupJSON = "can't parse reply keyboard markup JSON object"

// parseMarkup decodes and checks a reply_markup the way Telegram does for the
// cases bots trip over: bad JSON, callback_data over 64 bytes, and inline
// buttons with nothing to do.
func parseMarkup(raw string) (markup, *reply) {
	m := markup{raw: raw}
	if strings.TrimSpace(raw) == "" {
		return m, nil
	}
	fail := func(desc string) (markup, *reply) {
		r := badRequest(desc)
		return markup{}, &r
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil {
		return fail(errMarkupJSON)
	}
	if ik, ok := top["inline_keyboard"]; ok {
		var rows [][]map[string]json.RawMessage
		if err := json.Unmarshal(ik, &rows); err != nil {
			return fail(errMarkupJSON)
		}
		for _, row := range rows {
			var out []Button
			for _, fields := range row {
				var b Button
				var copyText struct {
					Text string `json:"text"`
				}
				var pay bool
				for k, dst := range map[string]any{"text": &b.Text, "callback_data": &b.CallbackData, "url": &b.URL, "copy_text": &copyText, "pay": &pay} {
					if v, ok := fields[k]; ok {
						if err := json.Unmarshal(v, dst); err != nil {
							return fail(errMarkupJSON)
						}
					}
				}
				if len(b.CallbackData) > 64 {
					return fail("BUTTON_DATA_INVALID")
				}
				acts := b.CallbackData != "" || b.URL != "" || copyText.Text != "" || pay
				for _, k := range inlineActionKeys {
					if _, ok := fields[k]; ok {
						acts = true
					}
				}
				if !acts {
					return fail("text buttons are unallowed in the inline keyboard")
				}
				out = append(out, b)
			}
			m.buttons = append(m.buttons, out)
		}
		var v any
		if err := json.Unmarshal(ik, &v); err != nil {
			return fail(errMarkupJSON)
		}
		canon, err := json.Marshal(map[string]any{"inline_keyboard": v})
		if err != nil {
			return fail(errMarkupJSON)
		}
		m.inline = string(canon)
	}
	if kb, ok := top["keyboard"]; ok {
		var rows [][]json.RawMessage
		if err := json.Unmarshal(kb, &rows); err != nil {
			return fail(errMarkupJSON)
		}
		for _, row := range rows {
			var out []string
			for _, cell := range row {
				var text string
				if err := json.Unmarshal(cell, &text); err != nil {
					var obj struct {
						Text string `json:"text"`
					}
					if err := json.Unmarshal(cell, &obj); err != nil {
						return fail(errMarkupJSON)
					}
					text = obj.Text
				}
				out = append(out, text)
			}
			m.keyboard = append(m.keyboard, out)
		}
	}
	if rk, ok := top["remove_keyboard"]; ok {
		_ = json.Unmarshal(rk, &m.remove)
	}
	return m, nil
}

// replyToParam reads reply_parameters (or the older reply_to_message_id).
func replyToParam(p map[string]string) (id int, allowMissing bool, rep *reply) {
	if v := strings.TrimSpace(p["reply_parameters"]); v != "" {
		var rp struct {
			MessageID                int  `json:"message_id"`
			AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(v), &rp); err != nil {
			r := badRequest("can't parse reply parameters JSON object")
			return 0, false, &r
		}
		return rp.MessageID, rp.AllowSendingWithoutReply, nil
	}
	n, _, err := intParam(p, "reply_to_message_id")
	if err != nil {
		r := badRequest(err.Error())
		return 0, false, &r
	}
	return int(n), boolParam(p, "allow_sending_without_reply"), nil
}
