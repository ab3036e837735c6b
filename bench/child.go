package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// childConfig is what a `stilstaan run` child is configured with.
type childConfig struct {
	Name         string // for messages and its log file
	DatabaseURL  string
	MaxConns     int
	TelegramURL  string
	Workers      int
	GlobalRate   float64
	PerChatRate  float64
	PerChatBurst int
	MasterKey    string
	ScanEvery    time.Duration
	Profile      string // loopback address to serve profiles on ("" for none)
}

// child is a running `stilstaan run` process.
type child struct {
	name    string
	cmd     *exec.Cmd
	hookURL string
	health  string // http://host:port of /readyz
	logPath string
	done    chan struct{}
	waitErr error
	log     *logTail
}

// startChild writes the child's config file into dir and starts
// `<binary> run --config <file>` with a clean environment (no STILSTAAN_*
// variable of the caller's leaks in). The webhook and the health endpoints
// listen on free loopback ports.
func startChild(ctx context.Context, binary, dir string, c childConfig) (*child, error) {
	hookAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	healthAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"database": map[string]any{"url": c.DatabaseURL, "max_conns": c.MaxConns, "auto_migrate": false},
		"telegram": map[string]any{
			"token": botToken, "server_url": c.TelegramURL, "mode": "webhook",
			// http:// is accepted with a Bot API server of one's own.
			"webhook_url":    "http://" + hookAddr + "/telegram",
			"webhook_listen": hookAddr, "webhook_secret": "bench_" + randomHex(16),
			"workers": c.Workers, "global_rate": c.GlobalRate, "per_chat_rate": c.PerChatRate,
			"per_chat_burst": c.PerChatBurst, "send_timeout": "10s", "max_send_retries": 8,
		},
		"http":    map[string]any{"listen": healthAddr},
		"crypto":  map[string]any{"master_key": c.MasterKey},
		"checkin": map[string]any{"scan_interval": c.ScanEvery.String()},
		"log":     map[string]any{"level": "warn", "format": "text"},
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: child config: %w", err)
	}
	cfgPath := filepath.Join(dir, c.Name+".yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return nil, fmt.Errorf("bench: child config: %w", err)
	}
	logPath := filepath.Join(dir, c.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: child log: %w", err)
	}

	cmd := exec.Command(binary, "run", "--config", cfgPath)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	if c.Profile != "" {
		cmd.Env = append(cmd.Env, EnvProfile+"="+c.Profile)
	}
	tail := &logTail{max: 8 << 10}
	cmd.Stdout = logFile
	cmd.Stderr = &teeWriter{a: logFile, b: tail}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("bench: start %s run: %w", binary, err)
	}
	ch := &child{name: c.Name, cmd: cmd, hookURL: "http://" + hookAddr + "/telegram", health: "http://" + healthAddr,
		logPath: logPath, done: make(chan struct{}), log: tail}
	go func() {
		ch.waitErr = cmd.Wait()
		logFile.Close()
		close(ch.done)
	}()
	return ch, nil
}

// cleanEnv is the caller's environment without STILSTAAN_* settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STILSTAAN_") {
			env = append(env, kv)
		}
	}
	return env
}

// waitReady waits until the child answers /readyz and has set its webhook at
// the fake server.
func (c *child) waitReady(ctx context.Context, tg *telegram) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return fmt.Errorf("bench: %s exited before it was ready (%v); its log ends with:\n%s", c.name, c.waitErr, c.log.String())
		case <-ctx.Done():
			return fmt.Errorf("bench: %s not ready: %w; its log ends with:\n%s", c.name, ctx.Err(), c.log.String())
		case <-tick.C:
		}
		if tg.fake.WebhookURL() != c.hookURL {
			continue
		}
		resp, err := client.Get(c.health + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
}

// stop sends SIGTERM, waits for the child to shut down in order, and kills
// it after a minute.
func (c *child) stop() error {
	select {
	case <-c.done:
		return c.exitError()
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("bench: %s did not stop within a minute of SIGTERM", c.name)
	}
	return c.exitError()
}

func (c *child) exitError() error {
	if c.waitErr != nil {
		return fmt.Errorf("bench: %s: %w; its log ends with:\n%s", c.name, c.waitErr, c.log.String())
	}
	return nil
}

// alive reports an error when the child has exited.
func (c *child) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("bench: %s exited (%v); its log ends with:\n%s", c.name, c.waitErr, c.log.String())
	default:
		return nil
	}
}

// procSample is a reading of the child's /proc files.
type procSample struct {
	cpu time.Duration // user + system time so far
	rss int64         // VmRSS, bytes
	hwm int64         // VmHWM (peak RSS), bytes
	at  time.Time
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat
// (sysconf(_SC_CLK_TCK), 100 on Linux).
const clockTick = 10 * time.Millisecond

// sample reads the child's CPU time and memory.
func (c *child) sample() (procSample, error) {
	return readProc(c.cmd.Process.Pid)
}

func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("bench: read /proc/%d/stat: %w", pid, err)
	}
	// The command name may hold spaces; the fields after it start at ") ".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("bench: /proc/%d/stat: unexpected format", pid)
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return s, fmt.Errorf("bench: /proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("bench: /proc/%d/stat: %w", pid, err)
	}
	s.cpu = time.Duration(utime+stime) * clockTick

	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("bench: read /proc/%d/status: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			s.rss = kib(line)
		case strings.HasPrefix(line, "VmHWM:"):
			s.hwm = kib(line)
		}
	}
	return s, sc.Err()
}

// kib reads "Name:   1234 kB" as bytes.
func kib(line string) int64 {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n << 10
}

// rssWatch samples a child's RSS every interval until stopped and keeps the
// largest reading.
type rssWatch struct {
	stopc chan struct{}
	done  chan struct{}
	max   int64
}

func watchRSS(c *child, every time.Duration) *rssWatch {
	w := &rssWatch{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if s, err := c.sample(); err == nil {
				w.max = max(w.max, s.rss)
			}
			select {
			case <-w.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// stop ends the watch and returns the largest RSS seen.
func (w *rssWatch) stop() int64 {
	close(w.stopc)
	<-w.done
	return w.max
}

// freePort returns a loopback address nobody listens on right now, and
// never the same one twice in a process (the kernel may hand out a port
// that was just closed again, and a child process binds it only later).
func freePort() (string, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("bench: find a free port: %w", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !portsUsed[addr] {
			portsUsed[addr] = true
			return addr, nil
		}
	}
	return "", errors.New("bench: find a free port: none left")
}

var (
	portsMu   sync.Mutex
	portsUsed = map[string]bool{}
)

// logTail keeps the last max bytes written to it.
type logTail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > l.max {
		l.buf = append(l.buf[:0], l.buf[len(l.buf)-l.max:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t *teeWriter) Write(p []byte) (int, error) {
	_, _ = t.b.Write(p)
	return t.a.Write(p)
}
