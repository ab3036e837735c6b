package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestMigrateFromEmpty(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, storagetest.URL(t), quiet(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	err = db.CheckSchema(ctx)
	if !errors.Is(err, storage.ErrSchemaOutdated) || !strings.Contains(err.Error(), "stilstaan migrate") {
		t.Fatalf("CheckSchema on an empty database = %v, want ErrSchemaOutdated naming `stilstaan migrate`", err)
	}

	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if applied != storage.SchemaVersion() || applied < 1 {
		t.Errorf("Migrate applied %d migrations, want %d", applied, storage.SchemaVersion())
	}
	if err := db.CheckSchema(ctx); err != nil {
		t.Errorf("CheckSchema after Migrate: %v", err)
	}
	for _, table := range []string{"people", "conversations", "inputs", "transcript", "outbox"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("table %s has %d rows, want 0", table, n)
		}
	}

	applied, err = db.Migrate(ctx)
	if err != nil || applied != 0 {
		t.Errorf("second Migrate = %d, %v; want 0, nil", applied, err)
	}
}

func TestCheckSchema(t *testing.T) {
	tests := []struct {
		name     string
		mutate   string // SQL run on a migrated database
		want     error
		wantText string
	}{
		{name: "current", want: nil},
		{name: "version set back", mutate: "UPDATE schema_version SET version = version - 1",
			want: storage.ErrSchemaOutdated, wantText: "run `stilstaan migrate`"},
		{name: "version row deleted", mutate: "DELETE FROM schema_version",
			want: storage.ErrSchemaOutdated, wantText: "run `stilstaan migrate`"},
		{name: "version table dropped", mutate: "DROP TABLE schema_version",
			want: storage.ErrSchemaOutdated, wantText: "run `stilstaan migrate`"},
		{name: "newer binary migrated it", mutate: "UPDATE schema_version SET version = version + 1",
			want: storage.ErrSchemaNewer, wantText: "upgrade the binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.New(t)
			if tt.mutate != "" {
				if _, err := db.Pool().Exec(ctx, tt.mutate); err != nil {
					t.Fatal(err)
				}
			}
			err := db.CheckSchema(ctx)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckSchema = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckSchema = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("CheckSchema = %q, want it to say %q", err, tt.wantText)
			}
		})
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	if _, err := db.Pool().Exec(ctx, "UPDATE schema_version SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); !errors.Is(err, storage.ErrSchemaNewer) {
		t.Fatalf("Migrate on a newer schema = %v, want ErrSchemaNewer", err)
	}
}

func TestMigrateOutdatedCatchesUp(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	// A database wiped back to version 0 is older than the binary; Migrate
	// must bring it to the current version again.
	if _, err := db.Pool().Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(ctx); !errors.Is(err, storage.ErrSchemaOutdated) {
		t.Fatalf("CheckSchema = %v, want ErrSchemaOutdated", err)
	}
	if n, err := db.Migrate(ctx); err != nil || n != storage.SchemaVersion() {
		t.Fatalf("Migrate = %d, %v; want %d, nil", n, err, storage.SchemaVersion())
	}
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema after catching up: %v", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	u := storagetest.URL(t)
	const replicas = 4
	results := make(chan int, replicas)
	errs := make(chan error, replicas)
	for range replicas {
		go func() {
			db, err := storage.Open(ctx, u, quiet(t))
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			n, err := db.Migrate(ctx)
			if err != nil {
				errs <- err
				return
			}
			results <- n
		}()
	}
	total := 0
	for range replicas {
		select {
		case err := <-errs:
			t.Fatalf("Migrate: %v", err)
		case n := <-results:
			total += n
		}
	}
	if total != storage.SchemaVersion() {
		t.Errorf("replicas applied %d migrations in all, want %d (each exactly once)", total, storage.SchemaVersion())
	}
}

func TestOpenCreatesMissingDatabase(t *testing.T) {
	tests := []struct {
		name   string
		suffix string
	}{
		{name: "plain name", suffix: ""},
		{name: "name that needs quoting", suffix: `-Mixed "Case"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			name := storagetest.NewName() + tt.suffix
			t.Cleanup(func() { storagetest.Drop(t, name) })
			u, err := storagetest.WithDatabase(storagetest.ServerURL(), name)
			if err != nil {
				t.Fatal(err)
			}
			db, err := storage.Open(ctx, u, quiet(t))
			if err != nil {
				t.Fatalf("Open on a missing database: %v", err)
			}
			defer db.Close()
			var got string
			if err := db.Pool().QueryRow(ctx, "SELECT current_database()").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != name {
				t.Errorf("connected to %q, want %q", got, name)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Errorf("Migrate on the created database: %v", err)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx := context.Background()
	_, err := storage.Open(ctx, "postgres://postgres@127.0.0.1:1/stilstaan?sslmode=disable&connect_timeout=5")
	if err == nil || !strings.HasPrefix(err.Error(), "storage: open: ") {
		t.Fatalf("Open on a closed port = %v, want a storage: open error", err)
	}
}
