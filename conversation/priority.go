package conversation

// Turns the bot starts itself (a daily check-in, a weekly summary) set
// Incoming.Priority to PriorityScheduled, so that people waiting for an
// answer are served first when many check-ins fall due at once. This file
// holds what such turns need beyond that.

// Priority is the priority extra messages of this turn should use with Send
// and SendPhoto: the turn's own (Incoming.Priority).
func (t *Turn) Priority() int { return t.In.Priority }

// SendPhoto queues a picture in this turn: env.File holds the PNG bytes,
// env.FileName its name and env.Text the caption.
func (t *Turn) SendPhoto(env Envelope, priority int) error {
	return t.service.enqueue(t, KindPhoto, env, priority)
}

// preface queues Incoming.Preface before the engine's messages, when the
// engine took the input: an InputStart that found another exercise running
// (Output.Busy) sends nothing.
func (s *Service) preface(t *Turn) error {
	if t.Out.Busy {
		return nil
	}
	for _, env := range t.In.Preface {
		if err := s.enqueue(t, KindMessage, env, t.In.Priority); err != nil {
			return err
		}
	}
	return nil
}
