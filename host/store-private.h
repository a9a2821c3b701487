/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the store's own files (store*.c) and its unit test; not part
 * of the engine's API.
 */
#pragma once

#include <sqlite3.h>

#include "store.h"

/* "DRMR": PRAGMA application_id, so a file of another program is never
 * mistaken for a history. */
#define STORE_APPLICATION_ID 0x44524d52

/* How long a write waits for another dermaroll's write to finish before it
 * reports STORE_ERROR_LOCKED.  Commits take milliseconds, so this only
 * expires when the other program holds a transaction open. */
#define STORE_BUSY_TIMEOUT_MS 300

struct store {
	sqlite3 *db;
	char *path;
	GHashTable *stmts;       /* SQL text (static) -> sqlite3_stmt * */
};

/* One schema step: applied in its own transaction, which also sets
 * PRAGMA user_version to @version. */
struct store_migration {
	int version;
	const char *sql;
};

/* The schema this program writes, and the steps to it (store-schema.c). */
extern const struct store_migration store_migrations[];
extern const size_t store_n_migrations;
int store_schema_version(void);

/*
 * Apply every step of @steps (versions strictly increasing) above the
 * file's user_version, each in one BEGIN IMMEDIATE transaction.  On error
 * the failing step leaves nothing behind and the earlier ones stay.
 */
gboolean store_schema_apply(struct store *s,
				const struct store_migration *steps,
				size_t n_steps, GError **error);

/* A cached prepared statement for @sql, a static string: the pointer is the
 * key.  Reset and unbound, ready for binding.  @doing as for
 * store_set_error().  Reset it (sqlite3_reset) when done with it, so that it
 * holds no read snapshot open. */
sqlite3_stmt *store_stmt(struct store *s, const char *sql, const char *doing,
				GError **error);

/* Turn SQLite's @rc into a STORE_ERROR whose message starts "Could not
 * @doing: " and names the file. */
void store_set_error(struct store *s, int rc, const char *doing,
			GError **error);
/* sqlite3_step() a statement that returns no row (SQLITE_DONE). */
gboolean store_step_done(struct store *s, sqlite3_stmt *st, const char *doing,
				GError **error);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Rollback never fails the caller. */
gboolean store_begin(struct store *s, const char *doing, GError **error);
gboolean store_commit(struct store *s, const char *doing, GError **error);
void store_rollback(struct store *s);
/* A deferred transaction that only reads: one snapshot for several
 * statements, which never waits for a writer (WAL). */
gboolean store_begin_read(struct store *s, const char *doing, GError **error);
void store_end_read(struct store *s);

/* A Bluetooth address "AA:BB:CC:DD:EE:FF" in any case, copied upper case
 * into @out; FALSE if @in is not one (store-record.c). */
gboolean store_address_normalize(const char *in, char out[18]);

/* Column helpers: NULL-safe copies. */
char *store_column_strdup(sqlite3_stmt *st, int col);
