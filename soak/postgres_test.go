package soak

import (
	"strings"
	"testing"
)

func TestDatabaseURL(t *testing.T) {
	tests := []struct {
		name, server, db, want, err string
	}{
		{name: "replaces the database", server: "postgres://postgres@127.0.0.1:5432/stilstaan?sslmode=disable", db: "stilstaan_soak_1",
			want: "postgres://postgres@127.0.0.1:5432/stilstaan_soak_1?sslmode=disable"},
		{name: "adds one", server: "postgresql://u:pw@db.internal", db: "postgres", want: "postgresql://u:pw@db.internal/postgres"},
		{name: "not a URL of PostgreSQL", server: "mysql://u:geheim@h/db", db: "x", err: "not a postgres:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := databaseURL(tt.server, tt.db)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "geheim") {
					t.Fatalf("error %v, want one saying %q without the password", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("databaseURL = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
