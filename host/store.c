/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The history store: opening the file safely, the connection's settings,
 * errors in words, statements and transactions.  The schema is in
 * store-schema.c; writes in store-record.c; queries in store-query.c.
 */
#define G_LOG_DOMAIN "dermaroll-store"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "store-private.h"

G_DEFINE_QUARK(store-error-quark, store_error)

/* The SQLite file header (https://www.sqlite.org/fileformat.html §1.3):
 * only what is needed to refuse a file before SQLite touches it. */
#define HDR_SIZE 100
#define HDR_MAGIC "SQLite format 3"          /* and its NUL: 16 bytes */
#define HDR_PAGE_SIZE 16                     /* u16 BE, 1 means 65536 */
#define HDR_CHANGE_COUNTER 24
#define HDR_PAGE_COUNT 28
#define HDR_USER_VERSION 60
#define HDR_APPLICATION_ID 68
#define HDR_VERSION_VALID_FOR 92

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

char *store_default_path(void)
{
	return g_build_filename(g_get_user_data_dir(), "dermaroll",
				"history.db", NULL);
}

const char *store_path(const struct store *s)
{
	return s->path;
}

/* ---- Errors ---- */

static int errno_code(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return STORE_ERROR_NO_SPACE;
	case EACCES:
	case EPERM:
	case EROFS:
		return STORE_ERROR_PERMISSION;
	case ENOENT:
		return STORE_ERROR_NOT_FOUND;
	default:
		return STORE_ERROR_IO;
	}
}

/* A failed system call before SQLite: "Could not @doing @path: reason." */
static void set_errno_error(const char *doing, const char *path, int err,
				GError **error)
{
	int code = errno_code(err);

	if (code == STORE_ERROR_NO_SPACE)
		g_set_error(error, STORE_ERROR, code,
			"Could not %s %s: the disk is full. Free some disk "
			"space and try again.", doing, path);
	else if (code == STORE_ERROR_PERMISSION)
		g_set_error(error, STORE_ERROR, code,
			"Could not %s %s: %s. Check that it and its folder "
			"belong to you and are writable, or choose another "
			"place for the history.", doing, path, g_strerror(err));
	else if (err == ENOTDIR)
		g_set_error(error, STORE_ERROR, code,
			"Could not %s %s: part of that path is a file, not a "
			"folder. Check the path, or choose another place for "
			"the history.", doing, path);
	else
		g_set_error(error, STORE_ERROR, code,
			"Could not %s %s: %s. Check the path, or choose "
			"another place for the history.", doing, path,
			g_strerror(err));
}

void store_set_error(struct store *s, int rc, const char *doing,
			GError **error)
{
	const char *detail = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int sys = s->db ? sqlite3_system_errno(s->db) : 0;
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = STORE_ERROR_LOCKED;
		break;
	case SQLITE_FULL:
		code = STORE_ERROR_NO_SPACE;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = STORE_ERROR_CORRUPT;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = STORE_ERROR_PERMISSION;
		break;
	case SQLITE_CONSTRAINT:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		code = STORE_ERROR_INVALID;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		/* A short read means the file ends before its own header
		 * says it should. */
		if (rc == SQLITE_IOERR_SHORT_READ)
			code = STORE_ERROR_CORRUPT;
		else
			code = sys ? errno_code(sys) : STORE_ERROR_IO;
		if (code == STORE_ERROR_NOT_FOUND)
			code = STORE_ERROR_IO;
		break;
	default:
		code = STORE_ERROR_IO;
		break;
	}

	switch (code) {
	case STORE_ERROR_LOCKED:
		g_set_error(error, STORE_ERROR, code,
			"Could not %s: another dermaroll program is writing to "
			"the history file %s right now. Close the other "
			"dermaroll, or wait a moment, and try again.",
			doing, s->path);
		break;
	case STORE_ERROR_NO_SPACE:
		g_set_error(error, STORE_ERROR, code,
			"Could not %s: the disk that holds the history file %s "
			"is full. Everything saved before is safe. Free some "
			"disk space and try again.", doing, s->path);
		break;
	case STORE_ERROR_CORRUPT:
		g_set_error(error, STORE_ERROR, code,
			"Could not %s: the history file %s is damaged (SQLite "
			"says: %s). dermaroll has not changed it. Keep a copy, "
			"then restore it from a backup, or move it aside so "
			"that dermaroll starts a new, empty history.",
			doing, s->path, detail);
		break;
	case STORE_ERROR_PERMISSION:
		g_set_error(error, STORE_ERROR, code,
			"Could not %s: dermaroll is not allowed to write the "
			"history file %s or its folder. Check that both belong "
			"to you and are writable, then try again.",
			doing, s->path);
		break;
	case STORE_ERROR_INVALID:
		g_set_error(error, STORE_ERROR, code,
			"Could not %s: the data breaks a rule of the history "
			"file %s (SQLite says: %s). This is a fault in "
			"dermaroll; please report it.", doing, s->path, detail);
		break;
	default:
		g_set_error(error, STORE_ERROR, code,
			"Could not %s: reading or writing the history file %s "
			"failed (%s%s%s). Check that the disk works and try "
			"again.", doing, s->path, detail, sys ? ": " : "",
			sys ? g_strerror(sys) : "");
		break;
	}
}

/* ---- Statements and transactions ---- */

sqlite3_stmt *store_stmt(struct store *s, const char *sql, const char *doing,
				GError **error)
{
	sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
	int rc;

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&st, NULL);
	if (rc != SQLITE_OK) {
		store_set_error(s, rc, doing, error);
		return NULL;
	}
	g_hash_table_insert(s->stmts, (gpointer)sql, st);
	return st;
}

gboolean store_step_done(struct store *s, sqlite3_stmt *st, const char *doing,
				GError **error)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return TRUE;
	store_set_error(s, rc, doing, error);
	return FALSE;
}

static gboolean exec_const(struct store *s, const char *sql, const char *doing,
				GError **error)
{
	sqlite3_stmt *st = store_stmt(s, sql, doing, error);

	return st && store_step_done(s, st, doing, error);
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_begin_read[] = "BEGIN";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

/* IMMEDIATE takes the write lock at once: a deferred transaction that
 * turns into a write can fail with SQLITE_BUSY without waiting. */
gboolean store_begin(struct store *s, const char *doing, GError **error)
{
	return exec_const(s, sql_begin, doing, error);
}

gboolean store_commit(struct store *s, const char *doing, GError **error)
{
	if (exec_const(s, sql_commit, doing, error))
		return TRUE;
	store_rollback(s);
	return FALSE;
}

gboolean store_begin_read(struct store *s, const char *doing, GError **error)
{
	return exec_const(s, sql_begin_read, doing, error);
}

void store_end_read(struct store *s)
{
	store_rollback(s);
}

void store_rollback(struct store *s)
{
	/* After some errors (SQLITE_FULL among them) SQLite has already
	 * rolled back; ROLLBACK then would only fail. */
	if (sqlite3_get_autocommit(s->db))
		return;
	if (!exec_const(s, sql_rollback, "undo the change", NULL))
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
				 "MESSAGE", "%s: ROLLBACK failed: %s", s->path,
				 sqlite3_errmsg(s->db),
				 "DERMAROLL_HISTORY", "%s", s->path);
}

char *store_column_strdup(sqlite3_stmt *st, int col)
{
	return g_strdup((const char *)sqlite3_column_text(st, col));
}

/* ---- Opening ---- */

/* Create the folder (0700) when asked; its parent is fsynced so that the
 * new entry survives a power cut along with the first commit. */
static gboolean ensure_dir(const char *dir, enum store_open_flags flags,
				GError **error)
{
	g_autofree char *parent = NULL;
	struct stat st;
	int fd;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return TRUE;
		g_set_error(error, STORE_ERROR, STORE_ERROR_IO,
			"Could not open the history: %s is not a folder. "
			"Choose another place for the history.", dir);
		return FALSE;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		set_errno_error("open the history's folder", dir, errno, error);
		return FALSE;
	}
	if (!(flags & STORE_OPEN_CREATE)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
			"There is no history yet: the folder %s does not "
			"exist. Start a session with dermaroll to create it, "
			"or give the path of an existing history.", dir);
		return FALSE;
	}
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		set_errno_error("create the history's folder", dir, errno,
				error);
		return FALSE;
	}
	parent = g_path_get_dirname(dir);
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return TRUE;
}

/* Create an empty file with mode 0600 ourselves, so that SQLite never
 * creates it under the caller's umask.  SQLite gives the -wal and -shm
 * files it creates later the main file's permission bits. */
static gboolean ensure_file(const char *path, const char *dir,
				enum store_open_flags flags, GError **error)
{
	int fd;

	if (access(path, F_OK) == 0)
		return TRUE;
	if (!(flags & STORE_OPEN_CREATE)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
			"There is no history yet: the file %s does not exist. "
			"Start a session with dermaroll to create it, or give "
			"the path of an existing history.", path);
		return FALSE;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST) {
		set_errno_error("create the history file", path, errno, error);
		return FALSE;
	}
	if (fd >= 0) {
		fsync(fd);
		close(fd);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return TRUE;
}

static gboolean wal_has_frames(const char *path)
{
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);
	struct stat st;

	return stat(wal, &st) == 0 && st.st_size > 0;
}

static void set_corrupt(const char *path, const char *what, GError **error)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
		"The history file %s %s. dermaroll has not changed it. Keep "
		"a copy, then restore it from a backup, or move it aside so "
		"that dermaroll starts a new, empty history.", path, what);
}

static void set_not_ours(const char *path, GError **error)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
		"The file %s is a database of another program, not a "
		"dermaroll history. dermaroll has not changed it. Choose "
		"the right file, or another place for the history.", path);
}

static void set_too_new(const char *path, uint32_t version, GError **error)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_TOO_NEW,
		"This history was written by a newer version of dermaroll "
		"(history format %u; this version knows formats up to %d). "
		"dermaroll has not changed the file %s. Install the newer "
		"dermaroll to use it.", version, store_schema_version(), path);
}

/*
 * Look at the header with plain read(2) before SQLite opens the file, so
 * that a file we refuse gets no -wal or -shm beside it and no byte
 * written.  *empty is set for a zero-length file (a history created and
 * never committed to).
 */
static gboolean check_header(const char *path, gboolean *empty,
				GError **error)
{
	uint8_t h[HDR_SIZE];
	uint32_t page_size, pages, version, app_id;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_errno_error("open the history file", path, errno, error);
		return FALSE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, STORE_ERROR, STORE_ERROR_IO,
			"Could not open the history: %s is not a regular "
			"file. Give the path of a history file.", path);
		return FALSE;
	}
	*empty = st.st_size == 0;
	if (*empty) {
		close(fd);
		return TRUE;
	}
	n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n < 0) {
		set_errno_error("read the history file", path, errno, error);
		return FALSE;
	}
	if (memcmp(h, HDR_MAGIC, n < 16 ? (size_t)n : 16) != 0) {
		set_corrupt(path, "is not a dermaroll history: it is not an "
			"SQLite database at all", error);
		return FALSE;
	}
	if (n < HDR_SIZE) {
		set_corrupt(path, "is cut short: it ends inside its own "
			"header (perhaps a copy that did not finish)", error);
		return FALSE;
	}

	page_size = (uint32_t)h[HDR_PAGE_SIZE] << 8 | h[HDR_PAGE_SIZE + 1];
	if (page_size == 1)
		page_size = 65536;
	if (page_size < 512 || (page_size & (page_size - 1)) != 0) {
		set_corrupt(path, "is damaged: its header is invalid", error);
		return FALSE;
	}

	app_id = be32(h + HDR_APPLICATION_ID);
	version = be32(h + HDR_USER_VERSION);
	if ((app_id != 0 && app_id != STORE_APPLICATION_ID) ||
	    (app_id == 0 && version != 0)) {
		set_not_ours(path, error);
		return FALSE;
	}
	if (version > (uint32_t)store_schema_version()) {
		set_too_new(path, version, error);
		return FALSE;
	}

	/* The page count in the header is valid when the change counter
	 * matches version-valid-for.  With frames in a -wal the main file
	 * may lag behind the header (a checkpoint cut short), and SQLite
	 * finishes that checkpoint itself. */
	pages = be32(h + HDR_PAGE_COUNT);
	if (!wal_has_frames(path) &&
	    ((uint64_t)st.st_size % page_size != 0 ||
	     (pages != 0 &&
	      be32(h + HDR_CHANGE_COUNTER) == be32(h + HDR_VERSION_VALID_FOR) &&
	      (uint64_t)st.st_size < (uint64_t)pages * page_size))) {
		set_corrupt(path, "is cut short: it is smaller than its "
			"header says (perhaps a copy that did not finish, or "
			"a full disk)", error);
		return FALSE;
	}
	return TRUE;
}

static gboolean db_config(struct store *s, int op, int value, GError **error)
{
	int rc = sqlite3_db_config(s->db, op, value, NULL);

	if (rc == SQLITE_OK)
		return TRUE;
	store_set_error(s, rc, "open the history", error);
	return FALSE;
}

static gboolean pragma(struct store *s, const char *sql, GError **error)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return TRUE;
	store_set_error(s, rc, "open the history", error);
	return FALSE;
}

static const char sql_identify[] =
	"SELECT (SELECT user_version FROM pragma_user_version),"
	" (SELECT application_id FROM pragma_application_id),"
	" (SELECT count(*) FROM sqlite_master)";

/* What SQLite sees, including commits still in the -wal: loading the
 * schema here also finds a damaged schema page.  Reads only. */
static gboolean check_contents(struct store *s, GError **error)
{
	const char *doing = "open the history";
	sqlite3_stmt *st = store_stmt(s, sql_identify, doing, error);
	int64_t version, app_id, objects;
	int rc;

	if (!st)
		return FALSE;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		store_set_error(s, rc, doing, error);
		return FALSE;
	}
	version = sqlite3_column_int64(st, 0);
	app_id = sqlite3_column_int64(st, 1);
	objects = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);

	if ((app_id != 0 && app_id != STORE_APPLICATION_ID) ||
	    (app_id == 0 && (version != 0 || objects != 0))) {
		set_not_ours(s->path, error);
		return FALSE;
	}
	if (version > store_schema_version()) {
		set_too_new(s->path, (uint32_t)version, error);
		return FALSE;
	}
	return TRUE;
}

static gboolean set_wal(struct store *s, GError **error)
{
	sqlite3_stmt *st;
	gboolean wal;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
				NULL);
	if (rc != SQLITE_OK) {
		store_set_error(s, rc, "open the history", error);
		return FALSE;
	}
	rc = sqlite3_step(st);
	wal = rc == SQLITE_ROW &&
		g_ascii_strcasecmp((const char *)sqlite3_column_text(st, 0),
					"wal") == 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		store_set_error(s, rc, "open the history", error);
		return FALSE;
	}
	if (!wal) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_IO,
			"Could not open the history: the file system that "
			"holds %s cannot give the history the safe write mode "
			"it needs. Put the history on a local disk.", s->path);
		return FALSE;
	}
	return TRUE;
}

/* Tighten a file that an older program or a copy left readable by
 * others.  Only our own files; never the folder, which may be shared. */
static void tighten_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || (st.st_mode & 077) == 0)
		return;
	if (chmod(path, 0600) == 0)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
				 "MESSAGE", "%s was readable by others; "
				 "its mode is now 0600", path,
				 "DERMAROLL_HISTORY", "%s", path);
}

static void tighten_modes(const char *path)
{
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(path, "-shm", NULL);

	tighten_mode(path);
	tighten_mode(wal);
	tighten_mode(shm);
}

static void finalize_stmt(gpointer st)
{
	sqlite3_finalize(st);
}

static void free_store(struct store *s)
{
	if (s->stmts)
		g_hash_table_destroy(s->stmts);
	if (s->db)
		sqlite3_close(s->db);
	g_free(s->path);
	g_free(s);
}

/*
 * Close a file we refused.  Checkpointing on close stays off whenever the
 * -wal holds frames, so that not one byte of the main file is written.
 * An empty -wal (one this open created) may be checkpointed, which writes
 * nothing, so that SQLite removes the -wal and -shm it made.
 */
static void close_refused(struct store *s)
{
	if (!wal_has_frames(s->path))
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
					NULL);
	free_store(s);
}

struct store *store_open(const char *path, enum store_open_flags flags,
				GError **error)
{
	g_autofree char *default_path = NULL;
	g_autofree char *dir = NULL;
	struct store *s;
	gboolean empty;
	int rc;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!path)
		path = default_path = store_default_path();
	dir = g_path_get_dirname(path);
	if (!ensure_dir(dir, flags, error) ||
	    !ensure_file(path, dir, flags, error) ||
	    !check_header(path, &empty, error))
		return NULL;
	if (empty && !(flags & STORE_OPEN_CREATE)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
			"There is no history yet: the file %s is empty. Start "
			"a session with dermaroll to fill it, or give the "
			"path of another history.", path);
		return NULL;
	}

	s = g_new0(struct store, 1);
	s->path = g_strdup(path);
	s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					finalize_stmt);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		store_set_error(s, rc, "open the history", error);
		free_store(s);
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 1);

	/* Until the file is known to be ours and not too new, closing must
	 * not checkpoint: that would write the main file. */
	if (!db_config(s, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, error) ||
	    !db_config(s, SQLITE_DBCONFIG_DEFENSIVE, 1, error) ||
	    !db_config(s, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, error)) {
		free_store(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

	if (sqlite3_db_readonly(s->db, "main") == 1) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_PERMISSION,
			"Could not open the history: dermaroll may read the "
			"history file %s but not write it. Check that it "
			"belongs to you and is writable.", path);
		free_store(s);
		return NULL;
	}
	if (!check_contents(s, error)) {
		close_refused(s);
		return NULL;
	}

	/*
	 * Durability before the ack: in WAL mode with synchronous=FULL,
	 * SQLite fsyncs the -wal at every COMMIT before COMMIT returns, so
	 * a committed pass survives a crash or a power cut; the roller is
	 * acked only after that (PROTOCOL.md: commit first, then ack).
	 */
	if (!set_wal(s, error) ||
	    !pragma(s, "PRAGMA synchronous = FULL", error) ||
	    !pragma(s, "PRAGMA foreign_keys = ON", error) ||
	    !pragma(s, "PRAGMA cell_size_check = ON", error) ||
	    !store_schema_apply(s, store_migrations, store_n_migrations,
				error) ||
	    !db_config(s, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, error)) {
		close_refused(s);
		return NULL;
	}
	tighten_modes(path);
	return s;
}

void store_close(struct store *s)
{
	if (s)
		free_store(s);
}

static const char sql_integrity[] = "PRAGMA integrity_check";

gboolean store_check(struct store *s, GError **error)
{
	const char *doing = "check the history";
	sqlite3_stmt *st = store_stmt(s, sql_integrity, doing, error);
	g_autofree char *first = NULL;
	int rc;

	if (!st)
		return FALSE;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		first = store_column_strdup(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		store_set_error(s, rc, doing, error);
		return FALSE;
	}
	if (g_strcmp0(first, "ok") != 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_CORRUPT,
			"The history file %s is damaged (SQLite found: %s). "
			"Keep a copy, then restore it from a backup, or move "
			"it aside so that dermaroll starts a new, empty "
			"history.", s->path, first ? first : "no answer");
		return FALSE;
	}
	return TRUE;
}
