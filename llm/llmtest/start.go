package llmtest

import (
	"net/http"
	"net/http/httptest"
)

// Start starts a Server outside a test (the soak run of `stilstaan soak`
// points a bot process at it); call Close when done.
func Start(script ...Response) *Server {
	s := &Server{done: make(chan struct{}), script: script, last: Response{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}
