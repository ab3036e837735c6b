// Package config loads Stilstaan's settings: defaults < config file
// (stilstaan.yaml or --config) < environment (STILSTAAN_*) < flags. viper stays
// inside this package; the rest of the program gets a validated Config.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// Config is every setting of Stilstaan.
type Config struct {
	Database  Database  `mapstructure:"database" yaml:"database"`
	Telegram  Telegram  `mapstructure:"telegram" yaml:"telegram"`
	HTTP      HTTP      `mapstructure:"http" yaml:"http"`
	Scripts   Scripts   `mapstructure:"scripts" yaml:"scripts"`
	Shell     Shell     `mapstructure:"shell" yaml:"shell"`
	Dialogs   Dialogs   `mapstructure:"dialogs" yaml:"dialogs"`
	LLM       LLM       `mapstructure:"llm" yaml:"llm"`
	Safety    Safety    `mapstructure:"safety" yaml:"safety"`
	Coaches   []Coach   `mapstructure:"coaches" yaml:"coaches"`
	Dashboard Dashboard `mapstructure:"dashboard" yaml:"dashboard"`
	Crypto    Crypto    `mapstructure:"crypto" yaml:"crypto"`
	Checkin   Checkin   `mapstructure:"checkin" yaml:"checkin"`
	Privacy   Privacy   `mapstructure:"privacy" yaml:"privacy"`
	Log       Log       `mapstructure:"log" yaml:"log"`
	Runtime   Runtime   `mapstructure:"runtime" yaml:"runtime"`
}

// Database is the PostgreSQL connection.
type Database struct {
	URL         string `mapstructure:"url" yaml:"url"`
	MaxConns    int32  `mapstructure:"max_conns" yaml:"max_conns"`
	AutoMigrate bool   `mapstructure:"auto_migrate" yaml:"auto_migrate"`
}

// Telegram is the Bot API connection and how updates arrive.
type Telegram struct {
	Token          string        `mapstructure:"token" yaml:"token" secret:"true"`
	ServerURL      string        `mapstructure:"server_url" yaml:"server_url"`
	Mode           string        `mapstructure:"mode" yaml:"mode"`
	WebhookURL     string        `mapstructure:"webhook_url" yaml:"webhook_url"`
	WebhookSecret  string        `mapstructure:"webhook_secret" yaml:"webhook_secret" secret:"true"`
	WebhookListen  string        `mapstructure:"webhook_listen" yaml:"webhook_listen"`
	PollTimeout    time.Duration `mapstructure:"poll_timeout" yaml:"poll_timeout"`
	Workers        int           `mapstructure:"workers" yaml:"workers"`
	GlobalRate     float64       `mapstructure:"global_rate" yaml:"global_rate"`
	PerChatRate    float64       `mapstructure:"per_chat_rate" yaml:"per_chat_rate"`
	PerChatBurst   int           `mapstructure:"per_chat_burst" yaml:"per_chat_burst"`
	SendTimeout    time.Duration `mapstructure:"send_timeout" yaml:"send_timeout"`
	MaxSendRetries int           `mapstructure:"max_send_retries" yaml:"max_send_retries"`
}

// HTTP is the address of /healthz, /readyz and /metrics.
type HTTP struct {
	Listen string `mapstructure:"listen" yaml:"listen"`
}

// Scripts says where extra or replacement exercise scripts live.
type Scripts struct {
	Dir string `mapstructure:"dir" yaml:"dir"`
}

// Shell configures the terminal shell.
type Shell struct {
	PauseScale float64 `mapstructure:"pause_scale" yaml:"pause_scale"`
}

// Dialogs configures the exercises as the bot runs them.
type Dialogs struct {
	// PauseScale shrinks (or stretches) the timed pauses of `run`; 1 is real
	// time. Soak runs and trials shorten them; the shell has its own.
	PauseScale float64 `mapstructure:"pause_scale" yaml:"pause_scale"`
}

// LLM is the optional OpenAI-compatible endpoint for reflective replies.
type LLM struct {
	BaseURL     string        `mapstructure:"base_url" yaml:"base_url"`
	APIKey      string        `mapstructure:"api_key" yaml:"api_key" secret:"true"`
	Model       string        `mapstructure:"model" yaml:"model"`
	Timeout     time.Duration `mapstructure:"timeout" yaml:"timeout"`
	MaxTokens   int           `mapstructure:"max_tokens" yaml:"max_tokens"`
	Temperature float32       `mapstructure:"temperature" yaml:"temperature"`
	MaxChars    int           `mapstructure:"max_chars" yaml:"max_chars"`
	PromptsDir  string        `mapstructure:"prompts_dir" yaml:"prompts_dir"`
	Classifier  bool          `mapstructure:"classifier" yaml:"classifier"`
}

// Helpline is one number or service shown in a safety reply.
type Helpline struct {
	Name  string `mapstructure:"name" yaml:"name"`
	Phone string `mapstructure:"phone" yaml:"phone"`
	Text  string `mapstructure:"text" yaml:"text"`
	URL   string `mapstructure:"url" yaml:"url"`
	Hours string `mapstructure:"hours" yaml:"hours"`
}

// Safety configures the crisis protocol.
type Safety struct {
	// Helplines per language; empty uses the built-in list of SAFETY.md.
	Helplines       map[string][]Helpline `mapstructure:"helplines" yaml:"helplines"`
	ReannounceAfter time.Duration         `mapstructure:"reannounce_after" yaml:"reannounce_after"`
	FollowUpAfter   time.Duration         `mapstructure:"follow_up_after" yaml:"follow_up_after"`
}

// Coach is a member of the coaching team, known by Telegram user id.
type Coach struct {
	ID   int64  `mapstructure:"id" yaml:"id"`
	Name string `mapstructure:"name" yaml:"name"`
}

// Dashboard is the coach web dashboard.
type Dashboard struct {
	Listen     string        `mapstructure:"listen" yaml:"listen"`
	PublicURL  string        `mapstructure:"public_url" yaml:"public_url"`
	SessionTTL time.Duration `mapstructure:"session_ttl" yaml:"session_ttl"`
	SigningKey string        `mapstructure:"signing_key" yaml:"signing_key" secret:"true"`
}

// Crypto holds the master key that wraps every person's data key.
type Crypto struct {
	MasterKey     string   `mapstructure:"master_key" yaml:"master_key" secret:"true"`
	MasterKeyFile string   `mapstructure:"master_key_file" yaml:"master_key_file"`
	PreviousKeys  []string `mapstructure:"previous_keys" yaml:"previous_keys" secret:"true"`
	DevKeyFile    string   `mapstructure:"dev_key_file" yaml:"dev_key_file"`
}

// Checkin configures daily check-ins and weekly summaries.
type Checkin struct {
	DefaultZone   string        `mapstructure:"default_zone" yaml:"default_zone"`
	LateWindow    time.Duration `mapstructure:"late_window" yaml:"late_window"`
	WeeklyDay     string        `mapstructure:"weekly_day" yaml:"weekly_day"`
	WeeklyTime    string        `mapstructure:"weekly_time" yaml:"weekly_time"`
	ScanInterval  time.Duration `mapstructure:"scan_interval" yaml:"scan_interval"`
	EveningPrompt string        `mapstructure:"evening_prompt" yaml:"evening_prompt"`
}

// Privacy configures retention.
type Privacy struct {
	RetentionDays int `mapstructure:"retention_days" yaml:"retention_days"`
	WarnDays      int `mapstructure:"warn_days" yaml:"warn_days"`
}

// Log configures log/slog.
type Log struct {
	Level  string `mapstructure:"level" yaml:"level"`
	Format string `mapstructure:"format" yaml:"format"`
}

// Runtime tunes the Go runtime of `stilstaan run`.
type Runtime struct {
	// MemoryLimit is the soft memory limit of the Go runtime
	// (runtime/debug.SetMemoryLimit), in the syntax of GOMEMLIMIT: a number
	// of bytes with an optional unit B, KiB, MiB, GiB or TiB, or "off". Near
	// the limit the garbage collector runs more often instead of letting the
	// heap double, and returns free memory to the operating system sooner.
	// GOMEMLIMIT, when set, wins.
	MemoryLimit string `mapstructure:"memory_limit" yaml:"memory_limit"`
}

// DefaultMemoryLimit is runtime.memory_limit unless set: the bot's live heap
// is about 16 MiB with the default settings, the binary's mapped code and
// data add some 24 MiB of resident memory that the limit does not count,
// and 40 MiB keeps the process within 64 MiB under load.
const DefaultMemoryLimit = "40MiB"

// MinMemoryLimit is the lowest runtime.memory_limit accepted: below it the
// bot's own data leaves the collector too little room and it would run
// nearly all the time.
const MinMemoryLimit = 32 << 20

// MemoryLimitBytes returns runtime.memory_limit in bytes, 0 for "off".
func (r Runtime) MemoryLimitBytes() (int64, error) {
	return ParseMemoryLimit(r.MemoryLimit)
}

// ParseMemoryLimit reads a size in the syntax of GOMEMLIMIT ("40MiB",
// "1GiB", "41943040", "off"); "off" and 0 give 0, no limit.
func ParseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return 0, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("must be a number of bytes with an optional unit B, KiB, MiB, GiB or TiB (like 40MiB), or off")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64>>shift {
		return 0, errors.New("is too large")
	}
	return n << shift, nil
}

// Defaults returns the built-in settings.
func Defaults() Config {
	return Config{
		Database: Database{URL: "postgres://postgres@127.0.0.1:5432/stilstaan?sslmode=disable", MaxConns: 16, AutoMigrate: true},
		Telegram: Telegram{
			ServerURL: "https://api.telegram.org", Mode: "polling", WebhookListen: "127.0.0.1:8443",
			PollTimeout: 30 * time.Second, Workers: 8, GlobalRate: 25, PerChatRate: 1, PerChatBurst: 3,
			SendTimeout: 10 * time.Second, MaxSendRetries: 8,
		},
		HTTP:      HTTP{Listen: "127.0.0.1:9090"},
		Shell:     Shell{PauseScale: 1},
		Dialogs:   Dialogs{PauseScale: 1},
		LLM:       LLM{BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini", Timeout: 8 * time.Second, MaxTokens: 200, Temperature: 0.7, MaxChars: 600},
		Safety:    Safety{ReannounceAfter: 12 * time.Hour, FollowUpAfter: 20 * time.Hour},
		Dashboard: Dashboard{Listen: "127.0.0.1:8080", SessionTTL: 8 * time.Hour},
		Crypto:    Crypto{DevKeyFile: ".dev/master.key"},
		Checkin:   Checkin{DefaultZone: "Europe/Amsterdam", LateWindow: 2 * time.Hour, WeeklyDay: "sunday", WeeklyTime: "19:00", ScanInterval: 15 * time.Second, EveningPrompt: "21:00"},
		Privacy:   Privacy{RetentionDays: 365, WarnDays: 14},
		Log:       Log{Level: "info", Format: "text"},
		Runtime:   Runtime{MemoryLimit: DefaultMemoryLimit},
	}
}

// Load reads the settings. file may be empty (then ./stilstaan.yaml is used
// when present); flags may be nil. Only flags that were set override.
func Load(file string, flags *pflag.FlagSet) (Config, error) {
	v := viper.New()
	setDefaults(v, "", reflect.ValueOf(Defaults()))
	v.SetEnvPrefix("STILSTAAN")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config: read %s: %w", file, err)
		}
	} else if _, err := os.Stat("stilstaan.yaml"); err == nil {
		v.SetConfigFile("stilstaan.yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config: read stilstaan.yaml: %w", err)
		}
	}
	if flags != nil {
		var bindErr error
		flags.VisitAll(func(f *pflag.Flag) {
			if key, ok := flagKeys[f.Name]; ok && f.Changed && bindErr == nil {
				bindErr = v.BindPFlag(key, f)
			}
		})
		if bindErr != nil {
			return Config{}, fmt.Errorf("config: flags: %w", bindErr)
		}
	}
	var c Config
	err := v.UnmarshalExact(&c, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)))
	if err != nil {
		return Config{}, fmt.Errorf("config: %s", cleanDecodeError(err))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// flagKeys maps command-line flags to settings.
var flagKeys = map[string]string{
	"database-url": "database.url",
	"log-level":    "log.level",
	"pause-scale":  "shell.pause_scale",
	"scripts-dir":  "scripts.dir",
}

// setDefaults registers every key with viper so env variables reach nested
// keys (viper only maps env for keys it knows).
func setDefaults(v *viper.Viper, prefix string, val reflect.Value) {
	t := val.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		fv := val.Field(i)
		if fv.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			setDefaults(v, key, fv)
			continue
		}
		v.SetDefault(key, fv.Interface())
	}
}

func cleanDecodeError(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "decoding failed due to the following error(s):\n\n", "")
	return strings.TrimSpace(msg)
}

// FieldError is an invalid setting.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Msg) }

// Validate checks rules that span settings. It returns every problem found.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("database.url", "must be a postgres:// URL")
	}
	if c.Database.MaxConns < 1 || c.Database.MaxConns > 1000 {
		bad("database.max_conns", "must be between 1 and 1000, got %d", c.Database.MaxConns)
	}
	switch c.Telegram.Mode {
	case "polling":
	case "webhook":
		u, err := url.Parse(c.Telegram.WebhookURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && c.Telegram.SelfHosted())) {
			bad("telegram.webhook_url", "webhook mode needs an https:// URL that Telegram can reach "+
				"(http:// only with a self-hosted Bot API server in telegram.server_url)")
		}
		if s := c.Telegram.WebhookSecret; s != "" && !validSecret(s) {
			bad("telegram.webhook_secret", "must be 1-256 characters of A-Z a-z 0-9 _ -")
		}
	default:
		bad("telegram.mode", "must be polling or webhook, got %q", c.Telegram.Mode)
	}
	if u, err := url.Parse(c.Telegram.ServerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("telegram.server_url", "must be an http(s) URL")
	}
	if c.Telegram.Workers < 1 || c.Telegram.Workers > 256 {
		bad("telegram.workers", "must be between 1 and 256, got %d", c.Telegram.Workers)
	}
	// Telegram allows about 30 a second (1,000 with paid broadcasts); the
	// upper bound only catches a slip of the keyboard. The bench lifts the
	// limit to measure the bot rather than the limiter.
	if c.Telegram.GlobalRate <= 0 || c.Telegram.GlobalRate > 100000 {
		bad("telegram.global_rate", "must be above 0 and at most 100000 messages a second")
	}
	if c.Telegram.PerChatRate <= 0 || c.Telegram.PerChatRate > 30 {
		bad("telegram.per_chat_rate", "must be above 0 and at most 30 messages a second")
	}
	if c.Telegram.PerChatBurst < 1 {
		bad("telegram.per_chat_burst", "must be at least 1")
	}
	if c.Telegram.PollTimeout < time.Second || c.Telegram.PollTimeout > 50*time.Second {
		bad("telegram.poll_timeout", "must be between 1s and 50s")
	}
	if c.Telegram.SendTimeout <= 0 {
		bad("telegram.send_timeout", "must be positive")
	}
	if c.Shell.PauseScale < 0 || c.Shell.PauseScale > 10 {
		bad("shell.pause_scale", "must be between 0 and 10, got %g", c.Shell.PauseScale)
	}
	if c.Dialogs.PauseScale < 0 || c.Dialogs.PauseScale > 10 {
		bad("dialogs.pause_scale", "must be between 0 and 10, got %g", c.Dialogs.PauseScale)
	}
	if c.Scripts.Dir != "" {
		if fi, err := os.Stat(c.Scripts.Dir); err != nil || !fi.IsDir() {
			bad("scripts.dir", "%q is not a directory", c.Scripts.Dir)
		}
	}
	if c.LLM.APIKey != "" {
		if u, err := url.Parse(c.LLM.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("llm.base_url", "must be an http(s) URL")
		}
		if c.LLM.Model == "" {
			bad("llm.model", "must be set when llm.api_key is set")
		}
	}
	if c.LLM.Timeout < 100*time.Millisecond || c.LLM.Timeout > time.Minute {
		bad("llm.timeout", "must be between 100ms and 1m")
	}
	if c.LLM.Temperature < 0 || c.LLM.Temperature > 2 {
		bad("llm.temperature", "must be between 0 and 2")
	}
	if c.LLM.MaxTokens < 1 || c.LLM.MaxTokens > 4096 {
		bad("llm.max_tokens", "must be between 1 and 4096")
	}
	if c.LLM.MaxChars < 50 || c.LLM.MaxChars > 4000 {
		bad("llm.max_chars", "must be between 50 and 4000")
	}
	for lang, lines := range c.Safety.Helplines {
		for i, h := range lines {
			if h.Name == "" || (h.Phone == "" && h.URL == "" && h.Text == "") {
				bad(fmt.Sprintf("safety.helplines.%s[%d]", lang, i), "needs a name and a phone, text or url")
			}
		}
	}
	if c.Safety.ReannounceAfter < time.Minute {
		bad("safety.reannounce_after", "must be at least 1m")
	}
	seen := map[int64]bool{}
	for i, co := range c.Coaches {
		if co.ID <= 0 {
			bad(fmt.Sprintf("coaches[%d].id", i), "must be a Telegram user id")
		}
		if seen[co.ID] {
			bad(fmt.Sprintf("coaches[%d].id", i), "coach %d is listed twice", co.ID)
		}
		seen[co.ID] = true
	}
	if c.Dashboard.SessionTTL < time.Minute {
		bad("dashboard.session_ttl", "must be at least 1m")
	}
	if c.Dashboard.PublicURL != "" {
		if u, err := url.Parse(c.Dashboard.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("dashboard.public_url", "must be an http(s) URL")
		}
	}
	if _, err := time.LoadLocation(c.Checkin.DefaultZone); err != nil {
		bad("checkin.default_zone", "unknown time zone %q", c.Checkin.DefaultZone)
	}
	if c.Checkin.LateWindow < time.Minute {
		bad("checkin.late_window", "must be at least 1m")
	}
	if c.Privacy.RetentionDays < 1 {
		bad("privacy.retention_days", "must be at least 1")
	}
	if c.Privacy.WarnDays < 0 || c.Privacy.WarnDays >= c.Privacy.RetentionDays {
		bad("privacy.warn_days", "must be at least 0 and less than privacy.retention_days")
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if n, err := c.Runtime.MemoryLimitBytes(); err != nil {
		bad("runtime.memory_limit", "%v, got %q", err, c.Runtime.MemoryLimit)
	} else if n != 0 && n < MinMemoryLimit {
		bad("runtime.memory_limit", "must be off or at least %dMiB, got %q", MinMemoryLimit>>20, c.Runtime.MemoryLimit)
	}
	return errors.Join(errs...)
}

// OfficialServer is the Bot API server Telegram runs.
const OfficialServer = "api.telegram.org"

// SelfHosted reports whether server_url points at a Bot API server other than
// Telegram's own (a telegram-bot-api in --local mode, or a fake in tests and
// soak runs). Such a server may post updates to an http:// webhook.
func (t Telegram) SelfHosted() bool {
	u, err := url.Parse(t.ServerURL)
	return err == nil && u.Host != "" && !strings.EqualFold(u.Hostname(), OfficialServer)
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Redacted returns the settings as YAML with every secret replaced.
func (c Config) Redacted() string {
	c.Crypto.PreviousKeys = append([]string(nil), c.Crypto.PreviousKeys...) // do not touch the caller's slice
	redact(reflect.ValueOf(&c).Elem())
	out, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	return string(out)
}

func redact(v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		switch {
		case f.Tag.Get("secret") == "true":
			switch fv.Kind() {
			case reflect.String:
				if fv.String() != "" {
					fv.SetString("[redacted]")
				}
			case reflect.Slice:
				for j := 0; j < fv.Len(); j++ {
					fv.Index(j).SetString("[redacted]")
				}
			}
		case fv.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)):
			redact(fv)
		}
	}
}

// Keys lists every setting's key, for documentation and tests.
func Keys() []string {
	v := viper.New()
	setDefaults(v, "", reflect.ValueOf(Defaults()))
	keys := v.AllKeys()
	sort.Strings(keys)
	return keys
}
