// Package strata puts an in-process cache (L1), Redis (L2) and PostgreSQL (L3)
// behind one API.
//
// A program registers a tagged struct once and then reads and writes records
// by id; Strata serves reads from the fastest tier that has the record, fills
// the faster tiers on a miss, writes through to the slower ones, and
// broadcasts invalidations so that every instance of a service converges on
// what the source of truth holds.
//
// # Lifecycle
//
//	ds, err := strata.NewDataStore(strata.Config{PostgresDSN: dsn, RedisAddr: addr})
//	defer ds.Close()
//	err = ds.Register(strata.Schema{Name: "players", Model: &Player{}})
//	err = ds.Migrate(ctx)
//	err = ds.Set(ctx, "players", "p1", &Player{ID: "p1"})
//	p, err := strata.GetTyped[Player](ctx, ds, "players", "p1")
//
// Config{} (no DSN, no address) is a working in-memory store: L1 is then the
// only copy of the data, so its entries neither expire nor get evicted.
// Without PostgresDSN there is no L3 and operations that need SQL (Search,
// Count, Migrate) return ErrL3Unavailable; a schema can also opt out of L3
// with PostgresPolicy.Disabled, which makes Redis its source of truth (its
// keys then never expire).
//
// # Models and tags
//
// A model is a struct with exactly one string field tagged
// `strata:"primary_key"`. Options are comma separated without spaces:
// primary_key, unique, index, nullable, omit_cache, omit_l1, default:X,
// auto_now_add, auto_now, encrypted, and "-" to ignore a field. Column
// names are the snake_case field names; Go types map to string -> TEXT,
// int/int8-64/uint8-32 -> BIGINT, float32/64 -> DOUBLE PRECISION, bool ->
// BOOLEAN, time.Time -> TIMESTAMPTZ, []byte -> BYTEA, structs, maps and
// slices -> JSONB; a pointer maps like its element and is nullable, and so
// are slices and maps (a nil one is stored as NULL, keeping nil and empty
// apart). uint, uint64, interfaces, channels and functions are refused.
// Anonymous struct fields are flattened. A default:X is turned into a quoted
// SQL literal (never raw tag text), and a zero field gets X when written.
//
// Times are stored as PostgreSQL stores them — UTC, microsecond precision —
// in every tier, and Set writes the normalised times (and auto_now,
// auto_now_add and default values) back into the struct it was given.
//
// # What a read returns
//
// Get and GetTyped return the same value whichever tier serves them: every
// field except omit_cache fields (left zero) and "-" fields. An omit_cache
// field lives in PostgreSQL only; read it with Search (optionally with
// Query.ForceL3 and Query.Fields), which returns full rows from L3.
// SearchCached, like Get, leaves omit_cache fields zero.
//
// Because a read leaves them zero, a write treats a zero omit_cache field as
// "unchanged": updating an existing record keeps the value PostgreSQL holds,
// and a new record is inserted with the zero value. Reading a record,
// changing another field and writing it back therefore never erases a
// secret, through Set, SetMany, Tx or the write-behind flush (two pending
// writes of a key coalesce to what both meant). A non-zero value is written
// as usual; to set one back to zero, name it with the Clear option:
// ds.Set(ctx, "users", id, u, strata.Clear("Password")). A schema
// with omit_l1 fields keeps them out of process memory by not serving reads
// from L1 at all (L2 holds the whole cached record); without any lower tier,
// omit_l1 cannot apply and is ignored. Values are private: Strata copies what
// Set receives and what Get returns, so no caller can change a cached value.
// An L1 hit runs no codec, and GetTyped of a struct without pointers, slices
// or maps allocates nothing.
//
// # Consistency
//
// Reads fill the caches. A write reaches the source of truth first
// (PostgreSQL, or Redis for a schema without L3); then, in one Redis round
// trip, its L2 key is refreshed or deleted, the schema's search generation
// advances (if a cached search exists) and one message tells the other
// instances to drop their L1 entry; the local L1 entry is dropped too.
//
// A Set of a schema that this process has migrated refreshes the L2 key
// with the new record instead of deleting it, so the next read anywhere is
// an L2 hit. That is safe because Migrate gives every table a row version
// (the column strata_ver, in no model and read by no Search) which a
// trigger sets from a sequence on every INSERT and UPDATE — writes made
// outside Strata included — once the row is locked: of two writes of a
// row, the later commit has the higher version. The upsert returns it in
// the same statement, Get's read of PostgreSQL selects it, and every value
// in Redis carries the version it was read or written at. A refresh
// replaces only a value of a lower version, deletes an unversioned value or
// a fill lease, and never creates an absent key. So two writers that commit
// in one order and reach Redis in the other leave the newer value; a Set
// whose refresh arrives after a Delete finds no key and cannot resurrect
// the row; and a reader's fill, which carries the version it read, is not
// overwritten by an older write. SetMany, a Tx's sets and write-behind
// flushes refresh Redis the same way, a batch in one round trip; the
// refreshes of concurrent writes of one schema share a script call (a
// write that finishes while another's script is in flight joins the next
// one, and returns once that call is answered). Concurrent Sets of one
// schema may share their upsert as well (l3postgres's UpsertGrouped):
// those that arrive while two are in flight go as one multi-row statement
// and transaction, rows in key order, a key once; each Set returns once
// the statement carrying its row has committed, with its own version. A
// row PostgreSQL refuses fails only its own Set (the statement is retried
// row by row); a statement whose outcome is unknown fails every Set it
// carried with ErrOutcomeUnknown; a Set whose context ends while queued
// writes nothing, and once sent returns ErrOutcomeUnknown. Deletes
// and writes by a process that did not call Migrate still delete the key,
// which is always safe. After a Set, the writer's own L1 follows the same
// rules: every L1 fill records the row version it read, and after its
// refresh of Redis the writer replaces its L1 entry only if that holds a
// lower version, leaves one of the same or a higher version, and drops one
// of unknown version; the replacement voids fills in flight, as a delete
// does. A key it does not hold it creates, but only under the fill guard:
// it takes the key's L1 epoch before its write begins and creates the
// entry only if no delete, write or invalidation of the key reached its L1
// since — the entry is then exactly what a fill reading its own commit
// would store, and any later delete or write, committed after it,
// invalidates it. Its next read of the key (or of a row it just inserted)
// is then an L1 hit. SetMany does the same for each of its records; a
// Tx's sets refresh but never create. The other instances drop their
// entries on the message and refill from Redis. (WriteThrough and
// WriteThroughL1Async therefore behave alike; WriteBehind keeps the
// pending value in the writer's L1.)
//
// Between a write's commit and the end of its cache upkeep, PostgreSQL is
// ahead of Redis. So that one instance's reads never see its own write and
// then lose it again, a write to PostgreSQL registers its ids before its
// statement is sent, until its upkeep is done: meanwhile that instance's
// reads of them that miss L1 read PostgreSQL only and fill nothing, and no
// fill begun before the write is stored in its L1 (what L1 already held
// stays readable: it is the old row). The history of one instance that
// alone writes its ids is then linearizable; reads of other instances are
// bounded in staleness, not linearizable. With Config.ChangeFeed on, a
// single-record Set leaves its Redis refresh to the background and returns
// after the commit (see Config.ChangeFeed): the feed invalidates the commit
// even if the writer dies before its refresh.
//
// Reads collapse concurrent misses of one key into one load. An L2 miss
// takes a lease before reading L3, and the L2 fill is a compare-and-set that
// succeeds only while the lease stands, so a reader can never install a row
// older than a write or delete that came after it started. L1 fills are
// guarded the same way by l1mem's per-key epochs, which every local write
// and every received invalidation advances. Every instance drops its whole
// L1 whenever its subscription is (re-)established or a sequence gap shows a
// message was lost.
//
// L1 is trusted only while the invalidation subscription is live. When the
// subscriber finds its connection lost — at once if it fails, within
// 2 × Config.InvalidationHealthCheck (2s by default) of the last reply if it
// goes silent — the instance stops reading and filling L1 (reads go to L2
// and L3, logged once at Warn) until it has subscribed again and dropped its
// L1. So during a Redis outage no instance keeps serving a value that
// another instance has replaced for longer than that bound. Before the first
// subscription completes, L1 is not used either. A store without Redis has
// no bus and uses L1 always.
//
// Every call returns by its context's deadline. The upkeep after a commit
// waits for Redis only within the caller's deadline; when Redis fails or
// does not answer in time, the keys (and the schema's search generation)
// are remembered, kept out of this instance's reads (which go to
// PostgreSQL, so read-your-writes holds), and repaired in the background —
// deleted, bumped and announced to the other instances — as soon as Redis
// answers; Close makes a last attempt. A read of a schema with PostgreSQL
// gives Redis at most half of its remaining time (at most
// L2PoolConfig.ReadTimeout), then reads PostgreSQL. A write whose call
// failed after PostgreSQL was sent it may have been applied, even after the
// call returned: its error wraps ErrOutcomeUnknown, and it is invalidated
// like a successful write, at once and again once the server backend that
// ran it has ended (waited for up to 2 minutes), because a reader may have
// re-cached the old row in between.
// Search and WarmCache fill L1 only under the same guards. A Redis value
// that does not decode (corruption, or another codec or model version
// during a rolling deploy) is read as a miss by Get, GetMany and Exists:
// logged at Warn, counted as an L2 "decode" error, deleted unless a good
// value replaced it meanwhile, and answered from PostgreSQL. (For a schema
// whose truth is Redis it is the only copy: it is kept and the read fails
// with ErrDecodeFailed.)
//
// # Change feed
//
// With Config.ChangeFeed, PostgreSQL's commit log drives invalidation as
// well: one instance streams a logical replication slot (package
// l3postgres/changefeed) and, for every committed change of a cached table —
// written through Strata or not — deletes the L2 key, advances the search
// generation, drops its L1 entry and publishes; TRUNCATE invalidates the
// schema. The slot advances only after that succeeded, so writes made
// outside Strata, writes whose call failed after the commit and writers
// that crashed or lost Redis still reach every cache, late rather than
// never. Migrate creates the publication and the slot and explains what
// the server lacks (ErrChangeFeed); the other instances take over the slot
// when the consumer dies. Stats().ChangeFeed reports lag and position.
//
// # Encryption
//
// With a 32-byte Config.EncryptionKey, fields tagged encrypted (strings
// only) are sealed with AES-256-GCM before they reach PostgreSQL, with a
// random nonce per write and the table, column and primary key as associated
// data: a ciphertext moved to another row or column fails to open
// (ErrDecodeFailed). L1 and L2 hold the plaintext. Without a key the tag is
// ignored.
//
// # Errors
//
// Every error wraps one of the package's sentinels (ErrNotFound,
// ErrSchemaNotFound, ErrInvalidModel, ErrInvalidQuery, ErrConflict,
// ErrNotMigrated, ErrL3Unavailable, ...); test with errors.Is. PostgreSQL's
// refusals are translated: a unique violation is ErrConflict (errors.As to
// *ConflictError gives the constraint), a missing table or column
// ErrNotMigrated, another constraint ErrConstraint, anything else
// ErrL3Failed, with the *pgconn.PgError still reachable with errors.As. An
// id or string field with a NUL byte or invalid UTF-8, or a time outside
// PostgreSQL's range, is ErrInvalidModel before anything is sent. Bad input
// is an error, never a panic; a hook that panics is logged at Error and
// yields ErrHookPanic, saying whether the write was stored or the value read
// (see SchemaHooks).
//
// # Write modes and batches
//
// WriteThrough (the default) and WriteThroughL1Async write L3 and invalidate
// the caches before Set returns (see Consistency; with Config.ChangeFeed on,
// a single-record Set's Redis refresh follows its return). WriteBehind updates L1 at
// once and flushes to L3 in batches from a background goroutine
// (Config.WriteBehindFlushInterval, or sooner at WriteBehindFlushThreshold
// pending records), coalescing repeated writes of a key, retrying failures
// with exponential backoff and jitter, reporting a record that ran out of
// retries (WriteBehindMaxRetry) to OnWriteError while keeping it pending,
// and refusing new keys with ErrWriteBehindFull past WriteBehindMaxPending.
// Reads on the writing instance see pending values; other instances see
// them once flushed. FlushDirty flushes now; Close flushes and reports what
// it could not. Both retry a flush that failed for a connection-level
// reason (PostgreSQL down or restarting, a dropped connection) with backoff,
// Close for up to 10 s. Stats().DirtyCount is exact.
//
// SetMany writes a batch with one COPY-based upsert, then one Redis DEL of
// its keys and one invalidation; GetMany reads L1, then one MGET, then one
// primary-key query. Tx commits writes across schemas atomically and touches
// caches only after COMMIT. SearchCached caches result sets under the
// schema's generation, which every write advances. Invalidate,
// InvalidateAll and WarmCache control the caches by hand.
package strata
