package soak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one `stilstaan run` process, started again after each kill. A
// child that exits without being told to is a crash: it is counted and
// started again, as a supervisor would.
type child struct {
	name      string
	bin       string
	args      []string
	env       []string
	logPath   string
	healthURL string
	log       *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current process has exited
	expected bool          // the current process is being killed or stopped on purpose
	stopped  bool          // no more restarts
	starts   int
	crashes  []string // how unexpected exits ended
	started  time.Time
}

func newChild(name, bin, configPath, logPath, healthAddr string, log *slog.Logger) *child {
	var env []string
	for _, kv := range os.Environ() {
		// The run's config file must win: settings in the environment
		// override files.
		if !strings.HasPrefix(kv, "STILSTAAN_") {
			env = append(env, kv)
		}
	}
	return &child{
		name: name, bin: bin, args: []string{"run", "--config", configPath}, env: env,
		logPath: logPath, healthURL: "http://" + healthAddr + "/readyz", log: log,
	}
}

// start starts a new process. Its stderr (the log) is appended to logPath.
func (c *child) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errors.New("soak: child stopped")
	}
	if c.cmd != nil && c.exited != nil {
		select {
		case <-c.exited:
		default:
			return fmt.Errorf("soak: %s is still running", c.name)
		}
	}
	f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("soak: child log: %w", err)
	}
	cmd := exec.Command(c.bin, c.args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("soak: start %s: %w", c.name, err)
	}
	c.cmd, c.exited, c.expected = cmd, make(chan struct{}), false
	c.starts++
	c.started = time.Now()
	exited := c.exited
	go func() {
		err := cmd.Wait()
		f.Close()
		c.mu.Lock()
		crashed := !c.expected && !c.stopped
		if crashed {
			c.crashes = append(c.crashes, exitText(err))
		}
		stopped := c.stopped
		c.mu.Unlock()
		close(exited)
		if crashed && !stopped {
			c.log.Error("soak: the bot exited on its own; starting it again", slog.String("child", c.name), slog.String("exit", exitText(err)))
			time.AfterFunc(time.Second, func() {
				if err := c.start(); err != nil {
					c.log.Error("soak: restart after a crash", slog.String("child", c.name), slog.Any("error", err))
				}
			})
		}
	}()
	return nil
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone. It
// returns the moment the signal was sent.
func (c *child) kill() (time.Time, error) {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	if cmd == nil || exited == nil {
		c.mu.Unlock()
		return time.Time{}, fmt.Errorf("soak: %s was never started", c.name)
	}
	c.expected = true
	c.mu.Unlock()
	at := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return at, fmt.Errorf("soak: kill %s: %w", c.name, err)
	}
	<-exited
	return at, nil
}

// stop ends the process for good: SIGTERM (the graceful shutdown), then
// SIGKILL after grace.
func (c *child) stop(grace time.Duration) error {
	c.mu.Lock()
	c.stopped = true
	cmd, exited := c.cmd, c.exited
	c.expected = true
	c.mu.Unlock()
	if cmd == nil || exited == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("soak: stop %s: %w", c.name, err)
	}
	select {
	case <-exited:
		if st := cmd.ProcessState; st != nil && !st.Success() {
			return fmt.Errorf("soak: %s ended with %s after SIGTERM", c.name, st)
		}
		return nil
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return fmt.Errorf("soak: %s did not stop within %s of SIGTERM", c.name, grace)
	}
}

// running reports whether a process is up.
func (c *child) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exited == nil {
		return false
	}
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// waitReady polls /readyz until it answers 200 (the database answers and the
// bot is not stopping) and returns how long that took from the start.
func (c *child) waitReady(ctx context.Context) (time.Duration, error) {
	c.mu.Lock()
	started, exited := c.started, c.exited
	c.mu.Unlock()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.healthURL, nil)
		if err != nil {
			return 0, err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(started), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("soak: %s not ready: %w", c.name, ctx.Err())
		case <-exited:
			return 0, fmt.Errorf("soak: %s exited before it was ready", c.name)
		case <-tick.C: // an HTTP endpoint in another process: nothing to wait on but time
		}
	}
}

func (c *child) counts() (starts int, crashes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.starts, append([]string(nil), c.crashes...)
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("soak: free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("soak: free port: %w", err)
	}
	return addr, nil
}
