package conversation

import (
	"context"
	"errors"
	"fmt"

	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// apologies are said when an input could not be handled at all.
var apologies = map[string]string{
	"nl": "Sorry, er ging bij mij iets mis en ik kon je laatste bericht niet verwerken. Probeer het gerust nog een keer, of typ /help.",
	"en": "Sorry, something went wrong on my side and I couldn't handle your last message. Please try again, or type /help.",
}

// Apologize records the input as processed without running the engine or any
// feature, and queues a short apology in the person's language. A transport
// uses it when an input cannot be handled (its processing panicked, or kept
// failing), so the person hears something and their next input starts clean;
// the conversation state stays as it was. A repeat of in.Source changes
// nothing (Result.Duplicate), and so does an input whose turn had committed.
func (s *Service) Apologize(ctx context.Context, in Incoming) (Result, error) {
	key := storage.PersonKey{Channel: in.Channel, ExternalID: in.ChatID}
	var res Result
	dup, err := s.db.Turn(ctx, key, in.Source, func(tx *storage.Tx) error {
		lang := tx.Person().Lang
		if tx.New() {
			lang = dialogs.LangFromHint(in.Input.LangHint)
			tx.SetLang(lang)
		}
		text, ok := apologies[lang]
		if !ok {
			text = apologies[dialogs.DefaultLanguage]
		}
		t := &Turn{Tx: tx, In: in, Now: tx.Now(), service: s}
		if err := s.enqueue(t, KindMessage, Envelope{Text: text}, PriorityInteractive); err != nil {
			return err
		}
		res = Result{PersonID: tx.Person().ID, Queued: t.queued}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("conversation: apologize: %w", err)
	}
	if dup {
		return Result{Duplicate: true}, nil
	}
	s.notify()
	return res, nil
}

// SetActive records that a person blocked the bot (false) or came back
// (true), as an input deduplicated by in.Source like any other. It returns
// an error wrapping ErrNoPerson for a chat the bot never talked with: there
// is nobody to mark.
func (s *Service) SetActive(ctx context.Context, in Incoming, active bool) (Result, error) {
	key := storage.PersonKey{Channel: in.Channel, ExternalID: in.ChatID}
	if _, err := s.db.FindPerson(ctx, key); errors.Is(err, storage.ErrNotFound) {
		return Result{}, fmt.Errorf("conversation: set active: %w", ErrNoPerson)
	} else if err != nil {
		return Result{}, fmt.Errorf("conversation: set active: %w", err)
	}
	var res Result
	dup, err := s.db.Turn(ctx, key, in.Source, func(tx *storage.Tx) error {
		tx.SetActive(active)
		res = Result{PersonID: tx.Person().ID}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("conversation: set active: %w", err)
	}
	if dup {
		return Result{Duplicate: true}, nil
	}
	return res, nil
}
