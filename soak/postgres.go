package soak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServerURL is the PostgreSQL server a soak run makes its database on
// when none is given.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// databaseURL returns url with the database name replaced.
func databaseURL(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("soak: %q is not a postgres:// URL", redactURL(server))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redactURL drops a password from a database URL, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// newDatabaseName makes a fresh database name for one run.
func newDatabaseName() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "stilstaan_soak_" + hex.EncodeToString(b)
}

// adminConnect connects to the server's maintenance database "postgres"
// (the database named in server, such as stilstaan, may not exist).
func adminConnect(ctx context.Context, server string) (*pgx.Conn, error) {
	u, err := databaseURL(server, "postgres")
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("soak: connect to %s: %w", redactURL(u), err)
	}
	return conn, nil
}

// adminExec runs one statement on the server's maintenance database.
func adminExec(ctx context.Context, server, sql string, args ...any) (int64, error) {
	conn, err := adminConnect(ctx, server)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tag, err := conn.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// dropDatabase drops the run's database, ending any connection still open.
func dropDatabase(ctx context.Context, server, name string) error {
	if _, err := adminExec(ctx, server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("soak: drop database %s: %w", name, err)
	}
	return nil
}

// terminateConnections ends every connection to the run's database (the
// bots' and the soak's own), as a failover or a network cut would.
func terminateConnections(ctx context.Context, server, name string) (int, error) {
	conn, err := adminConnect(ctx, server)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM (
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) t`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("soak: terminate connections: %w", err)
	}
	return n, nil
}

// DefaultRestartCommand restarts the local PostgreSQL cluster "main" of the
// newest version installed (the version is a directory of /etc/postgresql).
// It returns nil when no cluster is found there.
func DefaultRestartCommand() []string {
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil {
		return nil
	}
	var versions []float64
	names := map[float64]string{}
	for _, e := range entries {
		if v, err := strconv.ParseFloat(e.Name(), 64); err == nil && e.IsDir() {
			versions = append(versions, v)
			names[v] = e.Name()
		}
	}
	if len(versions) == 0 {
		return nil
	}
	v := slices.Max(versions)
	return []string{"pg_ctlcluster", "--skip-systemctl-redirect", names[v], "main", "restart"}
}

// restartPostgres runs the restart command and waits until the server
// answers again. It returns how long the server was away.
func restartPostgres(ctx context.Context, command []string, server string) (time.Duration, error) {
	if len(command) == 0 {
		return 0, fmt.Errorf("soak: no command to restart PostgreSQL")
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, command[0], command[1:]...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("soak: %s: %w: %s", strings.Join(command, " "), err, strings.TrimSpace(string(out)))
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := adminExec(cctx, server, "SELECT 1"); err == nil {
			return time.Since(start), nil
		}
		select {
		case <-cctx.Done():
			return 0, fmt.Errorf("soak: PostgreSQL did not come back: %w", cctx.Err())
		case <-tick.C: // another process: only time tells
		}
	}
}
