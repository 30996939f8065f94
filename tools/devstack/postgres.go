package devstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/AndrewDonelson/strata/testkit"
)

// pgDatabase is the database created for Strata's tests.
const pgDatabase = "strata"

// findPostgres returns the directory holding initdb, pg_ctl and postgres
// (the kit's search: $STRATA_PG_BIN, else the newest
// /usr/lib/postgresql/<major>/bin, else PATH).
func findPostgres() (string, error) {
	return testkit.PostgresBinDir("initdb", "pg_ctl", "postgres")
}

func hasAll(dir string, names ...string) bool {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// psqlPath prefers the psql next to the server, else the one on PATH.
func psqlPath(bin string) string {
	if hasAll(bin, "psql") {
		return filepath.Join(bin, "psql")
	}
	return "psql"
}

// startPostgres initialises a fresh cluster in a new temporary directory and
// starts it on a free loopback port, with the kit's launcher (the one the
// tests' throw-away servers use) and the stack's settings.
func (s *Stack) startPostgres(ctx context.Context) (*Server, error) {
	if _, err := findPostgres(); err != nil {
		if err := s.installer.install(ctx, "postgresql"); err != nil {
			return nil, err
		}
		if _, err = findPostgres(); err != nil {
			return nil, err
		}
	}
	root, err := os.MkdirTemp("", "strata-pg-")
	if err != nil {
		return nil, fmt.Errorf("devstack: create postgres directory: %w", err)
	}
	pg, err := testkit.InitPG(ctx, root)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	pg.Settings = append([]string{"synchronous_commit=off", "full_page_writes=off", "max_connections=300"}, replicationSettings()...)
	if err := pg.Start(ctx); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	pid, err := pg.PID()
	if err != nil {
		_ = pg.Stop(ctx, "immediate")
		os.RemoveAll(root)
		return nil, err
	}
	srv := &Server{PID: pid, Port: pg.Port, Root: root, Addr: pg.DSN(pgDatabase)}
	if err := psql(ctx, pg.Bin, pg.Port, "postgres", "CREATE DATABASE "+pgDatabase); err != nil {
		s.stopPostgres(srv)
		return nil, err
	}
	return srv, nil
}

// Logical replication settings of the stack's server: Strata's change feed
// (Config.ChangeFeed) needs wal_level=logical, and its tests create slots
// and replication sessions of their own, so both limits leave room for
// many at once.
const (
	stackWALLevel         = "logical"
	stackReplicationSlots = 20
	stackWALSenders       = 20
)

func replicationSettings() []string {
	return []string{
		"wal_level=" + stackWALLevel,
		"max_replication_slots=" + strconv.Itoa(stackReplicationSlots),
		"max_wal_senders=" + strconv.Itoa(stackWALSenders),
	}
}

// checkSettingsSQL fails unless the server runs with the replication
// settings above, so that a stack started before they existed (or by hand
// without them) is restarted by Up rather than reused.
var checkSettingsSQL = fmt.Sprintf(`DO $$ BEGIN
IF current_setting('wal_level') <> '%s'
   OR current_setting('max_replication_slots')::int < %d
   OR current_setting('max_wal_senders')::int < %d THEN
  RAISE EXCEPTION 'started without wal_level=%s, max_replication_slots>=%d, max_wal_senders>=%d';
END IF; END $$`, stackWALLevel, stackReplicationSlots, stackWALSenders,
	stackWALLevel, stackReplicationSlots, stackWALSenders)

// checkPostgres runs a query on the stack's database and checks that the
// server has the settings the stack starts it with.
func checkPostgres(ctx context.Context, srv *Server) error {
	if !running(srv.PID, "postgres") {
		return fmt.Errorf("postgres (pid %d) is not running", srv.PID)
	}
	bin, err := findPostgres()
	if err != nil {
		return err
	}
	return psql(ctx, bin, srv.Port, pgDatabase, checkSettingsSQL)
}

func psql(ctx context.Context, bin string, port int, db, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return run(exec.CommandContext(ctx, psqlPath(bin), "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "postgres", "-d", db, "-c", sql))
}

// stopPostgres asks the postmaster for a fast shutdown and removes its files.
func (s *Stack) stopPostgres(srv *Server) error {
	err := stopProcess(srv.PID, "postgres", sigFastShutdown, 30*time.Second)
	if err == nil && srv.Root != "" && strings.HasPrefix(filepath.Base(srv.Root), "strata-pg-") {
		os.RemoveAll(srv.Root)
	}
	return err
}
