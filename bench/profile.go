package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"
)

// EnvProfile names the environment variable that makes a `stilstaan run`
// started by the bench serve profiles on a loopback address (see
// ProfileHandler); the bench sets it with Config.ProfileDir.
const EnvProfile = "STILSTAAN_BENCH_PROFILE"

// ProfileHandler serves /cpu?seconds=N (a CPU profile over the next N
// seconds) and /heap (the heap profile) in pprof's format. It uses
// runtime/pprof directly: net/http/pprof would register itself on
// http.DefaultServeMux.
func ProfileHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cpu", func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.Atoi(r.URL.Query().Get("seconds"))
		if err != nil || secs < 1 || secs > 600 {
			http.Error(w, "seconds must be 1-600", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		t := time.NewTimer(time.Duration(secs) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
	})
	mux.HandleFunc("GET /heap", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_ = pprof.Lookup("heap").WriteTo(w, 0)
	})
	return mux
}

// fetchProfile saves what the child's profile endpoint answers at path.
func fetchProfile(ctx context.Context, addr, path, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: profile %s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("bench: profile: %w", err)
	}
	return f.Close()
}

// profileName is where a profile of the run goes.
func (r *runner) profileName(name string) string {
	return filepath.Join(r.cfg.ProfileDir, name)
}
