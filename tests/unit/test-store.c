/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The history store (DESIGN.md "The history store"): schema and
 * migrations, file modes, de-duplication by (roller, seq), the acked
 * sequence, queries, every refusal of a bad file, and SIGKILL at random
 * points during commits.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "store-private.h"

#define DAY_MS (24 * 3600 * G_GINT64_CONSTANT(1000))
#define T0 G_GINT64_CONSTANT(1767225600000)     /* 2026-01-01T00:00:00Z */

/* ---- Helpers ---- */

static int rm_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_dir(void)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("dermaroll-store-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static char *db_in(const char *dir)
{
	return g_build_filename(dir, "history.db", NULL);
}

static struct store *open_ok(const char *path)
{
	GError *error = NULL;
	struct store *s = store_open(path, STORE_OPEN_CREATE, &error);

	g_assert_no_error(error);
	g_assert_nonnull(s);
	return s;
}

static int64_t add_roller(struct store *s, const char *serial)
{
	GError *error = NULL;
	int64_t id = 0;

	g_assert_true(store_roller_update(s, serial, "1.0.0", T0, &id,
						&error));
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

static int64_t add_session(struct store *s, int64_t roller_id,
				int64_t head_id, uint16_t device_session,
				int64_t started_ms)
{
	struct store_session_start start = {
		.roller_id = roller_id,
		.head_id = head_id,
		.device_session = device_session,
		.started_ms = started_ms,
		.utc_offset_s = 3600,
	};
	GError *error = NULL;
	int64_t id = 0;

	g_assert_true(store_session_begin(s, &start, &id, &error));
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

/* A pass whose figures all follow from @seq, so a read-back can be checked
 * field by field. */
static struct store_pass make_pass(uint32_t seq, int64_t session_id,
					uint8_t zone,
					enum store_pass_source source)
{
	struct store_pass p;

	memset(&p, 0, sizeof(p));
	p.dev.seq = seq;
	p.dev.start_ms = 1000000u + seq * 1500u;
	p.dev.duration_ms = (uint16_t)(800 + seq % 100);
	p.dev.distance_mm = (uint16_t)(40 + seq % 7);
	p.dev.direction = seq % 2 ? DP_DIR_FORWARD : DP_DIR_BACKWARD;
	p.dev.angle_deg = (uint8_t)(seq % 180);
	p.dev.mean_force_cn = (uint16_t)(250 + seq % 30);
	p.dev.peak_force_cn = (uint16_t)(300 + seq % 50);
	p.dev.over_warn_ms = (uint16_t)(seq % 5 * 10);
	p.dev.session = 7;
	p.dev.zone = zone;
	p.dev.flags = DP_PASS_END_LIFT;
	p.session_id = session_id;
	p.started_ms = T0 + seq * 1500;
	p.dir_class = (enum zone_dir)(seq % ZONE_DIR_COUNT);
	p.source = source;
	return p;
}

static GArray *make_passes(uint32_t first, uint32_t last, int64_t session_id,
				uint8_t zone, enum store_pass_source source)
{
	GArray *a = g_array_new(FALSE, TRUE, sizeof(struct store_pass));
	uint32_t seq;

	for (seq = first; seq <= last; seq++) {
		struct store_pass p = make_pass(seq, session_id, zone, source);

		g_array_append_val(a, p);
	}
	return a;
}

static void add_passes_ok(struct store *s, int64_t roller_id, GArray *a,
				uint32_t ack, unsigned int want_new,
				unsigned int want_dup)
{
	unsigned int n_new = 99999, n_dup = 99999;
	GError *error = NULL;

	g_assert_true(store_add_passes(s, roller_id,
				(const struct store_pass *)a->data, a->len, ack,
				&n_new, &n_dup, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n_new, ==, want_new);
	g_assert_cmpuint(n_dup, ==, want_dup);
}

static void assert_pass_equal(const struct store_pass *a,
				const struct store_pass *b)
{
	g_assert_cmpuint(a->dev.seq, ==, b->dev.seq);
	g_assert_cmpuint(a->dev.start_ms, ==, b->dev.start_ms);
	g_assert_cmpuint(a->dev.duration_ms, ==, b->dev.duration_ms);
	g_assert_cmpuint(a->dev.distance_mm, ==, b->dev.distance_mm);
	g_assert_cmpuint(a->dev.direction, ==, b->dev.direction);
	g_assert_cmpuint(a->dev.angle_deg, ==, b->dev.angle_deg);
	g_assert_cmpuint(a->dev.mean_force_cn, ==, b->dev.mean_force_cn);
	g_assert_cmpuint(a->dev.peak_force_cn, ==, b->dev.peak_force_cn);
	g_assert_cmpuint(a->dev.over_warn_ms, ==, b->dev.over_warn_ms);
	g_assert_cmpuint(a->dev.session, ==, b->dev.session);
	g_assert_cmpuint(a->dev.zone, ==, b->dev.zone);
	g_assert_cmpuint(a->dev.flags, ==, b->dev.flags);
	g_assert_cmpint(a->session_id, ==, b->session_id);
	g_assert_cmpint(a->started_ms, ==, b->started_ms);
	g_assert_cmpint(a->dir_class, ==, b->dir_class);
	g_assert_cmpint(a->source, ==, b->source);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char *v;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	v = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		g_error("%s: %s", sql, msg);
}

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
			==, SQLITE_OK);
	return db;
}

static sqlite3 *raw_create(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
					SQLITE_OPEN_CREATE, NULL),
			==, SQLITE_OK);
	return db;
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	g_assert_cmpint(stat(path, &st), ==, 0);
	return st.st_mode & 07777;
}

static gboolean exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static char *sibling(const char *path, const char *suffix)
{
	return g_strconcat(path, suffix, NULL);
}

/* A file's bytes and its modification time, to prove it untouched. */
struct snapshot {
	char *bytes;
	gsize len;
	struct timespec mtime;
};

static void snapshot_take(const char *path, struct snapshot *sn)
{
	GError *error = NULL;
	struct stat st;

	g_assert_true(g_file_get_contents(path, &sn->bytes, &sn->len, &error));
	g_assert_no_error(error);
	g_assert_cmpint(stat(path, &st), ==, 0);
	sn->mtime = st.st_mtim;
}

static void snapshot_assert_same(const char *path, struct snapshot *sn)
{
	GError *error = NULL;
	g_autofree char *now = NULL;
	struct stat st;
	gsize len;

	g_assert_true(g_file_get_contents(path, &now, &len, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(now, len, sn->bytes, sn->len);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mtim.tv_sec, ==, sn->mtime.tv_sec);
	g_assert_cmpint(st.st_mtim.tv_nsec, ==, sn->mtime.tv_nsec);
	g_clear_pointer(&sn->bytes, g_free);
}

/* A closed history with a roller, a session and @n passes: big enough to
 * span many pages. */
static void make_history(const char *path, uint32_t n)
{
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GArray) a = NULL;
	int64_t roller = add_roller(s, "RLR-0001");
	int64_t session = add_session(s, roller, 0, 1, T0);

	a = make_passes(1, n, session, DP_ZONE_FOREHEAD, STORE_SOURCE_LIVE);
	add_passes_ok(s, roller, a, n, n, 0);
}

static void write_at(const char *path, off_t offset, const void *buf,
			size_t len)
{
	int fd = open(path, O_WRONLY);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pwrite(fd, buf, len, offset), ==, (ssize_t)len);
	close(fd);
}

/* Opening @path must fail with @code, name the file, leave it byte for
 * byte as it was, and leave no -wal or -shm beside it that was not there. */
static void assert_refused(const char *path, int code, const char *phrase)
{
	g_autofree char *wal = sibling(path, "-wal");
	g_autofree char *shm = sibling(path, "-shm");
	gboolean had_wal = exists(wal), had_shm = exists(shm);
	struct snapshot sn;
	GError *error = NULL;
	struct store *s;
	int round;

	snapshot_take(path, &sn);
	/* Twice: a refusal must not change what the next attempt sees. */
	for (round = 0; round < 2; round++) {
		s = store_open(path, STORE_OPEN_CREATE, &error);
		g_assert_null(s);
		g_assert_error(error, STORE_ERROR, code);
		g_assert_nonnull(strstr(error->message, path));
		g_assert_nonnull(strstr(error->message, phrase));
		g_assert_nonnull(strstr(error->message, "has not changed"));
		g_clear_error(&error);
	}
	snapshot_assert_same(path, &sn);
	g_assert_cmpint(exists(wal), ==, had_wal);
	g_assert_cmpint(exists(shm), ==, had_shm);
}

/* ---- Schema and migrations ---- */

static const char *const tables[] = {
	"checklist_answers", "clock_witness", "heads", "journal_entries",
	"overrides", "passes", "rollers", "sessions", "sync_state",
	"zone_results", NULL,
};

static void test_schema_create(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autofree char *mode = NULL;
	g_autofree char *names = NULL;
	g_autofree char *want = NULL;
	sqlite3 *db;

	/* The connection's settings: durable commits (synchronous=FULL in
	 * WAL mode fsyncs the -wal at every COMMIT), foreign keys, a short
	 * wait for another writer. */
	{
		g_autoptr(Store) s = open_ok(path);
		g_autofree char *journal = query_text(s->db,
						"PRAGMA journal_mode");

		g_assert_cmpstr(journal, ==, "wal");
		g_assert_cmpint(query_int(s->db, "PRAGMA synchronous"), ==, 2);
		g_assert_cmpint(query_int(s->db, "PRAGMA foreign_keys"), ==, 1);
		g_assert_cmpint(query_int(s->db, "PRAGMA busy_timeout"), ==,
				STORE_BUSY_TIMEOUT_MS);
		g_assert_cmpint(query_int(s->db, "PRAGMA trusted_schema"), ==,
				0);
	}

	db = raw_open(path);
	g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==,
			store_schema_version());
	g_assert_cmpint(store_schema_version(), ==, 2);
	g_assert_cmpint(query_int(db, "PRAGMA application_id"), ==,
			STORE_APPLICATION_ID);
	mode = query_text(db, "PRAGMA journal_mode");
	g_assert_cmpstr(mode, ==, "wal");
	names = query_text(db, "SELECT group_concat(name, ' ') FROM"
			" (SELECT name FROM sqlite_master WHERE type = 'table'"
			" ORDER BY name)");
	want = g_strjoinv(" ", (char **)tables);
	g_assert_cmpstr(names, ==, want);
	g_free(names);
	names = query_text(db, "SELECT group_concat(name, ' ') FROM"
			" (SELECT name FROM sqlite_master WHERE type = 'index'"
			" AND sql IS NOT NULL ORDER BY name)");
	g_assert_cmpstr(names, ==, "heads_fitted journal_entries_at"
			" overrides_session passes_session passes_unassigned"
			" passes_zone rollers_address sessions_device"
			" sessions_head sessions_started zone_results_zone");
	sqlite3_close(db);
	rm_rf(dir);
}

static void test_schema_reopen(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	GError *error = NULL;
	int64_t objects = 0, id;
	sqlite3 *db;
	int i;

	for (i = 0; i < 3; i++) {
		g_autoptr(Store) s = open_ok(path);

		/* The same serial is the same roller every time. */
		g_assert_true(store_roller_update(s, "RLR-7", "1.0.0", T0 + i,
							&id, &error));
		g_assert_no_error(error);
		g_assert_cmpint(id, ==, 1);
		db = s->db;
		g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 2);
		if (i == 0)
			objects = query_int(db,
				"SELECT count(*) FROM sqlite_master");
		g_assert_cmpint(query_int(db,
			"SELECT count(*) FROM sqlite_master"), ==, objects);
		g_assert_cmpint(query_int(db,
			"SELECT count(*) FROM rollers"), ==, 1);
		g_assert_cmpint(query_int(db,
			"SELECT last_seen_ms FROM rollers"), ==, T0 + i);
	}
	rm_rf(dir);
}

static void finalize(gpointer st)
{
	sqlite3_finalize(st);
}

/* A bare connection on an empty file, for store_schema_apply(). */
static struct store *bare_store(const char *path)
{
	struct store *s = g_new0(struct store, 1);

	g_assert_true(g_file_set_contents(path, "", 0, NULL));
	s->path = g_strdup(path);
	s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					finalize);
	s->db = raw_open(path);
	return s;
}

static void bare_close(struct store *s)
{
	g_hash_table_destroy(s->stmts);
	sqlite3_close(s->db);
	g_free(s->path);
	g_free(s);
}

static void test_schema_steps(void)
{
	static const struct store_migration good[] = {
		{ 1, "CREATE TABLE a (x INTEGER);" },
		{ 2, "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (2);" },
	};
	static const struct store_migration bad[] = {
		{ 1, "CREATE TABLE a (x INTEGER);" },
		{ 2, "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (2);" },
		{ 3, "CREATE TABLE c (x INTEGER); INSERT INTO a VALUES (3);"
		     " CREATE TABLE broken (;" },
	};
	/* Steps at or below the file's version are skipped: this first
	 * step would fail if it ran again. */
	static const struct store_migration later[] = {
		{ 1, "CREATE TABLE a (x INTEGER);" },
		{ 2, "THIS IS NOT SQL" },
		{ 3, "CREATE TABLE c (x INTEGER); INSERT INTO a VALUES (3);" },
		{ 7, "INSERT INTO a VALUES (7);" },
	};
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	struct store *s = bare_store(path);
	GError *error = NULL;

	g_assert_true(store_schema_apply(s, good, G_N_ELEMENTS(good), &error));
	g_assert_no_error(error);
	g_assert_cmpint(query_int(s->db, "PRAGMA user_version"), ==, 2);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM a"), ==, 1);

	/* Again: nothing to do, nothing done. */
	g_assert_true(store_schema_apply(s, good, G_N_ELEMENTS(good), &error));
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM a"), ==, 1);

	/* A failing step leaves nothing of itself and keeps the others. */
	g_assert_false(store_schema_apply(s, bad, G_N_ELEMENTS(bad), &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_IO);
	g_assert_nonnull(strstr(error->message, "update the history's format"));
	g_clear_error(&error);
	g_assert_cmpint(query_int(s->db, "PRAGMA user_version"), ==, 2);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM a"), ==, 1);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM sqlite_master"
				" WHERE name = 'c'"), ==, 0);
	g_assert_true(sqlite3_get_autocommit(s->db));

	g_assert_true(store_schema_apply(s, later, G_N_ELEMENTS(later),
						&error));
	g_assert_no_error(error);
	g_assert_cmpint(query_int(s->db, "PRAGMA user_version"), ==, 7);
	g_autofree char *xs = query_text(s->db,
				"SELECT group_concat(x, ',') FROM a");
	g_assert_cmpstr(xs, ==, "2,3,7");

	bare_close(s);
	rm_rf(dir);
}

static void test_default_path(void)
{
	/* main() pointed XDG_DATA_HOME at a fresh temporary folder. */
	g_autofree char *want = g_build_filename(g_get_user_data_dir(),
					"dermaroll", "history.db", NULL);
	g_autofree char *dir = g_path_get_dirname(want);
	g_autofree char *path = store_default_path();
	GError *error = NULL;
	struct store *s;

	g_assert_cmpstr(path, ==, want);
	/* No folder yet, and not asked to create: nothing is made. */
	s = store_open(NULL, STORE_OPEN_DEFAULT, &error);
	g_assert_null(s);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(exists(dir));

	s = store_open(NULL, STORE_OPEN_CREATE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(store_path(s), ==, want);
	store_close(s);
	g_assert_cmpint(file_mode(dir), ==, 0700);
	g_assert_cmpint(file_mode(want), ==, 0600);
}

/* ---- File modes ---- */

static void test_mode_0600(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *sub = g_build_filename(dir, "a", "dermaroll", NULL);
	g_autofree char *path = db_in(sub);
	g_autofree char *wal = sibling(path, "-wal");
	g_autofree char *shm = sibling(path, "-shm");
	g_autoptr(GArray) a = make_passes(1, 20, 0, 0, STORE_SOURCE_OFFLINE);
	mode_t old = umask(0);
	struct store *s;
	int64_t roller;

	/* Even with a umask that lets everyone read and write. */
	s = open_ok(path);
	roller = add_roller(s, "RLR-MODE");
	add_passes_ok(s, roller, a, 20, 20, 0);
	g_assert_true(exists(wal));
	g_assert_true(exists(shm));
	g_assert_cmpint(file_mode(path), ==, 0600);
	g_assert_cmpint(file_mode(wal), ==, 0600);
	g_assert_cmpint(file_mode(shm), ==, 0600);
	g_assert_cmpint(file_mode(sub), ==, 0700);
	store_close(s);
	umask(old);

	/* A copy left readable by others is tightened on open, and so are
	 * the -wal and -shm SQLite made from its mode. */
	g_assert_cmpint(chmod(path, 0644), ==, 0);
	s = open_ok(path);
	g_assert_cmpint(file_mode(path), ==, 0600);
	g_assert_cmpint(file_mode(wal), ==, 0600);
	g_assert_cmpint(file_mode(shm), ==, 0600);
	store_close(s);
	rm_rf(dir);
}

/* ---- Rollers and heads ---- */

static void test_rollers(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	struct store_roller *r;
	GError *error = NULL;
	int64_t a, b, again;

	g_assert_true(store_roller_update(s, "RLR-A", "1.0.0", T0, &a, &error));
	g_assert_true(store_roller_update(s, "RLR-B", "1.0.0", T0 + 5, &b,
						&error));
	g_assert_no_error(error);
	g_assert_cmpint(a, !=, b);
	/* Seen again with new firmware; an older "seen" time never wins. */
	g_assert_true(store_roller_update(s, "RLR-A", "1.1.0", T0 + 10, &again,
						&error));
	g_assert_true(store_roller_update(s, "RLR-A", "1.1.0", T0 + 2, &again,
						&error));
	g_assert_cmpint(again, ==, a);
	g_assert_true(store_roller_rename(s, a, "  Bathroom roller  ", &error));
	g_assert_no_error(error);

	list = store_rollers(s, false, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 2);
	r = list->pdata[0];
	g_assert_cmpint(r->id, ==, a);
	g_assert_cmpstr(r->serial, ==, "RLR-A");
	g_assert_cmpstr(r->name, ==, "Bathroom roller");
	g_assert_cmpstr(r->firmware, ==, "1.1.0");
	g_assert_cmpint(r->first_seen_ms, ==, T0);
	g_assert_cmpint(r->last_seen_ms, ==, T0 + 10);
	g_assert_false(r->forgotten);
	r = list->pdata[1];
	g_assert_cmpstr(r->name, ==, "RLR-B");
	g_clear_pointer(&list, g_ptr_array_unref);

	g_assert_true(store_roller_forget(s, b, &error));
	list = store_rollers(s, false, &error);
	g_assert_cmpuint(list->len, ==, 1);
	g_clear_pointer(&list, g_ptr_array_unref);
	list = store_rollers(s, true, &error);
	g_assert_cmpuint(list->len, ==, 2);
	g_assert_true(((struct store_roller *)list->pdata[1])->forgotten);
	g_clear_pointer(&list, g_ptr_array_unref);

	/* Paired again: back in the list. */
	g_assert_true(store_roller_update(s, "RLR-B", "1.0.0", T0 + 20, NULL,
						&error));
	list = store_rollers(s, false, &error);
	g_assert_cmpuint(list->len, ==, 2);
	g_clear_pointer(&list, g_ptr_array_unref);
	g_assert_no_error(error);

	g_assert_false(store_roller_rename(s, a, " \t ", &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_roller_rename(s, 999, "X", &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_roller_forget(s, 999, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_roller_update(s, "", "1", T0, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

/* ---- The roller's Bluetooth address (schema step 2) ---- */

static void assert_address(struct store *s, const char *address,
				int64_t want_id)
{
	GError *error = NULL;
	struct store_roller *r = store_roller_by_address(s, address, &error);

	g_assert_no_error(error);
	if (!want_id) {
		g_assert_null(r);
		return;
	}
	g_assert_nonnull(r);
	g_assert_cmpint(r->id, ==, want_id);
	g_assert_cmpstr(r->address, ==, "AA:BB:CC:DD:EE:0F");
	store_roller_free(r);
}

static void test_roller_address(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	GError *error = NULL;
	struct store_roller *r;
	int64_t a = add_roller(s, "RLR-A"), b = add_roller(s, "RLR-B");

	/* None recorded yet. */
	assert_address(s, "AA:BB:CC:DD:EE:0F", 0);
	list = store_rollers(s, true, &error);
	g_assert_null(((struct store_roller *)list->pdata[0])->address);
	g_clear_pointer(&list, g_ptr_array_unref);

	/* Stored upper case; looked up in any case. */
	g_assert_true(store_roller_set_address(s, a, "aa:bb:cc:dd:ee:0f", &error));
	g_assert_no_error(error);
	assert_address(s, "AA:BB:CC:DD:EE:0F", a);
	assert_address(s, "aa:bb:cc:dd:ee:0f", a);
	list = store_rollers(s, true, &error);
	g_assert_cmpstr(((struct store_roller *)list->pdata[0])->address, ==,
			"AA:BB:CC:DD:EE:0F");
	g_assert_null(((struct store_roller *)list->pdata[1])->address);
	g_clear_pointer(&list, g_ptr_array_unref);

	/* The same address on another roller: it moves there (§9.5, one
	 * address one roller). */
	g_assert_true(store_roller_set_address(s, b, "AA:BB:CC:DD:EE:0F", &error));
	g_assert_no_error(error);
	assert_address(s, "AA:BB:CC:DD:EE:0F", b);
	list = store_rollers(s, true, &error);
	g_assert_null(((struct store_roller *)list->pdata[0])->address);
	g_clear_pointer(&list, g_ptr_array_unref);
	/* Again on the same roller: no change, no error. */
	g_assert_true(store_roller_set_address(s, b, "AA:BB:CC:DD:EE:0F", &error));
	assert_address(s, "AA:BB:CC:DD:EE:0F", b);

	/* A forgotten roller is still found (its history stays). */
	g_assert_true(store_roller_forget(s, b, &error));
	assert_address(s, "AA:BB:CC:DD:EE:0F", b);

	/* Cleared. */
	g_assert_true(store_roller_set_address(s, b, NULL, &error));
	g_assert_no_error(error);
	assert_address(s, "AA:BB:CC:DD:EE:0F", 0);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM rollers"
				" WHERE address IS NOT NULL"), ==, 0);

	/* Refusals change nothing. */
	g_assert_true(store_roller_set_address(s, a, "AA:BB:CC:DD:EE:0F", &error));
	g_assert_false(store_roller_set_address(s, 999, "AA:BB:CC:DD:EE:0F", &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "Could not save the roller's Bluetooth "
			"address: there is no such roller in the history.");
	g_clear_error(&error);
	assert_address(s, "AA:BB:CC:DD:EE:0F", a);
	g_assert_true(sqlite3_get_autocommit(s->db));
	r = store_roller_by_address(s, "11:22:33:44:55:66", &error);
	g_assert_no_error(error);
	g_assert_null(r);
	rm_rf(dir);
}

static void test_roller_address_invalid(void)
{
	static const char *const bad[] = {
		"", "AA:BB:CC:DD:EE", "AA:BB:CC:DD:EE:FF:", "AA-BB-CC-DD-EE-FF",
		"AA:BB:CC:DD:EE:FG", "AAB:BC:CD:DE:EF:F0", " AA:BB:CC:DD:EE:F",
		"AA:BB:CC:DD:EE:FF\n",
	};
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	GError *error = NULL;
	int64_t a = add_roller(s, "RLR-A");

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_false(store_roller_set_address(s, a, bad[i], &error));
		g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, "Could not save the roller's "
				"Bluetooth address: it is not a Bluetooth address "
				"(it looks like AA:BB:CC:DD:EE:FF).");
		g_clear_error(&error);
		g_assert_null(store_roller_by_address(s, bad[i], &error));
		g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
		g_clear_error(&error);
	}
	g_assert_null(store_roller_by_address(s, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM rollers"
				" WHERE address IS NOT NULL"), ==, 0);
	rm_rf(dir);
}

/* A history of format 1 (the previous release) is brought to format 2 on
 * open: every roller keeps its row, with no address, and the address can
 * then be recorded. */
static void test_migrate_address(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(GPtrArray) list = NULL;
	GError *error = NULL;
	struct store_roller *r;
	struct store *s;
	sqlite3 *db;

	g_assert_cmpint(store_migrations[0].version, ==, 1);
	s = bare_store(path);
	g_assert_true(store_schema_apply(s, store_migrations, 1, &error));
	g_assert_no_error(error);
	exec_ok(s->db, "INSERT INTO rollers (serial, name, firmware,"
		" first_seen_ms, last_seen_ms) VALUES"
		" ('RLR-OLD', 'Old one', '0.9.0', 5, 6),"
		" ('RLR-TWO', 'RLR-TWO', '1.0.0', 7, 8)");
	g_assert_cmpint(query_int(s->db, "PRAGMA user_version"), ==, 1);
	bare_close(s);

	s = open_ok(path);
	g_assert_cmpint(query_int(s->db, "PRAGMA user_version"), ==, 2);
	list = store_rollers(s, true, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 2);
	r = list->pdata[0];
	g_assert_cmpstr(r->serial, ==, "RLR-OLD");
	g_assert_cmpstr(r->name, ==, "Old one");
	g_assert_cmpstr(r->firmware, ==, "0.9.0");
	g_assert_cmpint(r->first_seen_ms, ==, 5);
	g_assert_cmpint(r->last_seen_ms, ==, 6);
	g_assert_null(r->address);
	g_assert_true(store_roller_set_address(s, r->id, "C0:FF:EE:00:00:01", &error));
	g_assert_no_error(error);
	g_clear_pointer(&list, g_ptr_array_unref);
	store_close(s);

	/* The column's CHECK and the unique index came with the step. */
	db = raw_open(path);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE rollers SET address = 'short'",
				NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE rollers SET address ="
				" 'C0:FF:EE:00:00:01'", NULL, NULL, NULL), ==,
			SQLITE_CONSTRAINT);
	sqlite3_close(db);

	s = open_ok(path);
	r = store_roller_by_address(s, "c0:ff:ee:00:00:01", &error);
	g_assert_no_error(error);
	g_assert_nonnull(r);
	g_assert_cmpstr(r->serial, ==, "RLR-OLD");
	store_roller_free(r);
	store_close(s);
	rm_rf(dir);
}

static void test_heads(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	int64_t roller = add_roller(s, "RLR-H");
	struct store_head h = { 0 };
	GError *error = NULL;
	int64_t a, a2, b;

	g_assert_true(store_head_current(s, roller, &h, &error));
	g_assert_cmpint(h.id, ==, 0);
	g_assert_null(h.serial);

	g_assert_true(store_head_fit(s, roller, "HEAD-A", 500, T0, 0, &a,
					&error));
	g_assert_no_error(error);
	/* The same head again: only its use count moves. */
	g_assert_true(store_head_fit(s, roller, "HEAD-A", 500, T0 + DAY_MS, 3,
					&a2, &error));
	g_assert_cmpint(a2, ==, a);
	add_session(s, roller, a, 1, T0 + DAY_MS);
	add_session(s, roller, a, 2, T0 + 2 * DAY_MS);
	g_assert_true(store_head_current(s, roller, &h, &error));
	g_assert_cmpint(h.id, ==, a);
	g_assert_cmpint(h.roller_id, ==, roller);
	g_assert_cmpstr(h.serial, ==, "HEAD-A");
	g_assert_cmpuint(h.needle_um, ==, 500);
	g_assert_cmpint(h.fitted_ms, ==, T0);
	g_assert_cmpint(h.replaced_ms, ==, 0);
	g_assert_cmpuint(h.uses_reported, ==, 3);
	g_assert_cmpuint(h.sessions, ==, 2);
	store_head_clear(&h);

	g_assert_true(store_head_fit(s, roller, "HEAD-B", 250, T0 + 3 * DAY_MS,
					0, &b, &error));
	g_assert_cmpint(b, !=, a);
	g_assert_true(store_head_current(s, roller, &h, &error));
	g_assert_cmpint(h.id, ==, b);
	g_assert_cmpuint(h.needle_um, ==, 250);
	g_assert_cmpuint(h.sessions, ==, 0);
	store_head_clear(&h);
	g_assert_cmpint(query_int(s->db, "SELECT replaced_ms FROM heads"
				" WHERE serial = 'HEAD-A'"),
			==, T0 + 3 * DAY_MS);

	/* HEAD-A back on: its first fitting and sessions still count. */
	g_assert_true(store_head_fit(s, roller, "HEAD-A", 500, T0 + 4 * DAY_MS,
					4, &a2, &error));
	g_assert_cmpint(a2, ==, a);
	g_assert_true(store_head_current(s, roller, &h, &error));
	g_assert_cmpint(h.fitted_ms, ==, T0);
	g_assert_cmpuint(h.sessions, ==, 2);
	g_assert_cmpuint(h.uses_reported, ==, 4);
	store_head_clear(&h);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM heads"
				" WHERE replaced_ms IS NULL"), ==, 1);
	g_assert_no_error(error);

	g_assert_false(store_head_fit(s, roller, "HEAD-C", 0, T0, 0, NULL,
					&error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_head_fit(s, roller, "HEAD-C", 3001, T0, 0, NULL,
					&error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	/* An unknown roller: the whole fitting is undone. */
	g_assert_false(store_head_fit(s, 999, "HEAD-C", 500, T0, 0, NULL,
					&error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_true(sqlite3_get_autocommit(s->db));
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

/* ---- Sessions ---- */

static void test_sessions(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	struct store_session_start start = {
		.device_session = 12,
		.started_ms = T0,
		.utc_offset_s = -5 * 3600,
		.plan_name = "Dr. Weiss – cheeks 0.5 mm",
		.plan_date = "2025-12-01",
	};
	int64_t roller = add_roller(s, "RLR-S"), id, again, found;
	struct store_session *ss;
	GError *error = NULL;

	start.roller_id = roller;
	g_assert_true(store_session_begin(s, &start, &id, &error));
	g_assert_no_error(error);
	/* Firmware is the roller's at the session, not later. */
	g_assert_true(store_roller_update(s, "RLR-S", "2.0.0", T0 + 1, NULL,
						&error));
	start.started_ms = T0 + DAY_MS;
	start.plan_name = start.plan_date = NULL;
	g_assert_true(store_session_begin(s, &start, &again, &error));
	g_assert_true(store_session_end(s, id, T0 + 600000,
					STORE_SESSION_COMPLETED, &error));
	g_assert_true(store_session_end(s, again, T0 + DAY_MS + 60000,
					STORE_SESSION_INTERRUPTED, &error));
	g_assert_no_error(error);

	/* The latest session with that device number. */
	g_assert_true(store_session_find(s, roller, 12, &found, &error));
	g_assert_cmpint(found, ==, again);
	g_assert_true(store_session_find(s, roller, 13, &found, &error));
	g_assert_cmpint(found, ==, 0);
	g_assert_true(store_session_find(s, roller, 0, &found, &error));
	g_assert_cmpint(found, ==, 0);

	list = store_history(s, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 2);
	ss = list->pdata[0];
	g_assert_cmpint(ss->id, ==, id);
	g_assert_cmpint(ss->roller_id, ==, roller);
	g_assert_cmpstr(ss->roller_serial, ==, "RLR-S");
	g_assert_cmpstr(ss->roller_name, ==, "RLR-S");
	g_assert_cmpstr(ss->firmware, ==, "1.0.0");
	g_assert_cmpint(ss->head_id, ==, 0);
	g_assert_null(ss->head_serial);
	g_assert_cmpuint(ss->head_use, ==, 0);
	g_assert_cmpuint(ss->device_session, ==, 12);
	g_assert_cmpint(ss->started_ms, ==, T0);
	g_assert_cmpint(ss->utc_offset_s, ==, -5 * 3600);
	g_assert_cmpint(ss->ended_ms, ==, T0 + 600000);
	g_assert_cmpint(ss->state, ==, STORE_SESSION_COMPLETED);
	g_assert_cmpstr(ss->plan_name, ==, "Dr. Weiss – cheeks 0.5 mm");
	g_assert_cmpstr(ss->plan_date, ==, "2025-12-01");
	g_assert_cmpuint(ss->zones->len, ==, 0);
	ss = list->pdata[1];
	g_assert_cmpstr(ss->firmware, ==, "2.0.0");
	g_assert_cmpint(ss->state, ==, STORE_SESSION_INTERRUPTED);
	g_assert_null(ss->plan_name);
	g_assert_null(ss->plan_date);

	g_assert_false(store_session_end(s, id, T0, STORE_SESSION_OPEN,
					&error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_session_end(s, 999, T0, STORE_SESSION_ABORTED,
					&error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	start.roller_id = 999;
	g_assert_false(store_session_begin(s, &start, &id, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	start.roller_id = roller;
	start.head_id = 999;
	g_assert_false(store_session_begin(s, &start, &id, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	/* Another roller's head. */
	{
		int64_t other = add_roller(s, "RLR-OTHER"), head;

		g_assert_true(store_head_fit(s, other, "H-O", 500, T0, 0,
						&head, &error));
		start.head_id = head;
		g_assert_false(store_session_begin(s, &start, &id, &error));
		g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
		g_clear_error(&error);
	}
	start.head_id = 0;
	start.utc_offset_s = 90000;
	g_assert_false(store_session_begin(s, &start, &id, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM sessions"), ==,
			2);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

static void test_zone_results(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	int64_t roller = add_roller(s, "RLR-Z");
	int64_t session = add_session(s, roller, 0, 1, T0);
	struct store_zone_result r = {
		.zone = DP_ZONE_CHIN,
		.passes = { 4, 4, 3 },
		.mean_force_cn = 280,
		.peak_force_cn = 470,
		.over_warn_ms = 0,
		.started_ms = T0 + 1000,
		.ended_ms = T0 + 90000,
	};
	const struct store_zone_result *got;
	GError *error = NULL;

	g_assert_true(store_zone_result_record(s, session, &r, &error));
	/* Recorded again as the zone goes on: replaced, not added. */
	r.passes[ZONE_DIR_DIAGONAL] = 5;
	r.peak_force_cn = 520;
	r.over_warn_ms = 120;
	r.ended_ms = T0 + 95000;
	g_assert_true(store_zone_result_record(s, session, &r, &error));
	r.zone = DP_ZONE_FOREHEAD;
	g_assert_true(store_zone_result_record(s, session, &r, &error));
	g_assert_no_error(error);

	list = store_history(s, NULL, &error);
	g_assert_cmpuint(list->len, ==, 1);
	GArray *zones = ((struct store_session *)list->pdata[0])->zones;
	g_assert_cmpuint(zones->len, ==, 2);
	got = &g_array_index(zones, struct store_zone_result, 0);
	g_assert_cmpuint(got->zone, ==, DP_ZONE_FOREHEAD);
	got = &g_array_index(zones, struct store_zone_result, 1);
	g_assert_cmpuint(got->zone, ==, DP_ZONE_CHIN);
	g_assert_cmpuint(got->passes[ZONE_DIR_HORIZONTAL], ==, 4);
	g_assert_cmpuint(got->passes[ZONE_DIR_VERTICAL], ==, 4);
	g_assert_cmpuint(got->passes[ZONE_DIR_DIAGONAL], ==, 5);
	g_assert_cmpuint(got->mean_force_cn, ==, 280);
	g_assert_cmpuint(got->peak_force_cn, ==, 520);
	g_assert_cmpuint(got->over_warn_ms, ==, 120);
	g_assert_cmpint(got->started_ms, ==, T0 + 1000);
	g_assert_cmpint(got->ended_ms, ==, T0 + 95000);

	r.zone = 0;
	g_assert_false(store_zone_result_record(s, session, &r, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	r.zone = 11;
	g_assert_false(store_zone_result_record(s, session, &r, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	r.zone = 1;
	g_assert_false(store_zone_result_record(s, 999, &r, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

/* ---- Passes, de-duplication, the acked sequence ---- */

static void test_passes_round_trip(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GArray) in = NULL, out = NULL;
	int64_t roller = add_roller(s, "RLR-P");
	int64_t session = add_session(s, roller, 0, 7, T0);
	GError *error = NULL;
	guint i;

	in = make_passes(1, 40, session, DP_ZONE_NOSE, STORE_SOURCE_LIVE);
	/* Extremes of every field. */
	g_array_index(in, struct store_pass, 0).dev.start_ms =
		G_GUINT64_CONSTANT(0x7fffffffffffffff);
	g_array_index(in, struct store_pass, 1).dev.duration_ms = 65535;
	g_array_index(in, struct store_pass, 1).dev.peak_force_cn = 65535;
	g_array_index(in, struct store_pass, 1).dev.angle_deg = 179;
	g_array_index(in, struct store_pass, 1).dev.flags = DP_PASS_FLAGS_ALL;
	g_array_index(in, struct store_pass, 2).dev.seq = 0xffffffffu;
	add_passes_ok(s, roller, in, 0, 40, 0);

	out = store_session_passes(s, session, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(out->len, ==, 40);
	/* By seq: 0xffffffff sorts last. */
	for (i = 0; i < 40; i++) {
		guint from = i < 2 ? i : i == 39 ? 2 : i + 1;

		assert_pass_equal(&g_array_index(out, struct store_pass, i),
				  &g_array_index(in, struct store_pass, from));
	}
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

static void test_passes_dedup(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	struct store *s = open_ok(path);
	g_autoptr(GArray) live = NULL, offline = NULL, again = NULL;
	g_autoptr(GArray) other = NULL, got = NULL;
	int64_t a = add_roller(s, "RLR-A"), b = add_roller(s, "RLR-B");
	int64_t s1 = add_session(s, a, 0, 1, T0);
	int64_t s2 = add_session(s, a, 0, 2, T0 + DAY_MS);
	GError *error = NULL;
	guint i;

	/* Live passes 1..10 during session 1; the link drops; the offline
	 * log brings 5..15 again, zone 0, no session. */
	live = make_passes(1, 10, s1, DP_ZONE_LEFT_CHEEK, STORE_SOURCE_LIVE);
	add_passes_ok(s, a, live, 0, 10, 0);
	offline = make_passes(5, 15, 0, DP_ZONE_NONE, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, a, offline, 0, 5, 6);

	/* The first copy stays as it was. */
	got = store_session_passes(s, s1, &error);
	g_assert_cmpuint(got->len, ==, 10);
	for (i = 0; i < 10; i++)
		assert_pass_equal(&g_array_index(got, struct store_pass, i),
				  &g_array_index(live, struct store_pass, i));
	g_clear_pointer(&got, g_array_unref);
	got = store_unassigned_passes(s, a, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 5);
	for (i = 0; i < 5; i++)
		assert_pass_equal(&g_array_index(got, struct store_pass, i),
			&g_array_index(offline, struct store_pass, i + 6));
	g_clear_pointer(&got, g_array_unref);
	store_close(s);

	/* After a restart: the whole log again, and seq 7 claimed by
	 * another session, are all duplicates. */
	s = open_ok(path);
	again = make_passes(1, 15, 0, DP_ZONE_NONE, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, a, again, 0, 0, 15);
	g_clear_pointer(&again, g_array_unref);
	again = make_passes(7, 7, s2, DP_ZONE_CHIN, STORE_SOURCE_LIVE);
	add_passes_ok(s, a, again, 0, 0, 1);
	got = store_session_passes(s, s2, &error);
	g_assert_cmpuint(got->len, ==, 0);
	g_clear_pointer(&got, g_array_unref);

	/* Duplicates inside one batch count once. */
	g_clear_pointer(&again, g_array_unref);
	again = make_passes(16, 18, 0, DP_ZONE_NONE, STORE_SOURCE_OFFLINE);
	other = make_passes(16, 18, 0, DP_ZONE_NONE, STORE_SOURCE_OFFLINE);
	g_array_append_vals(again, other->data, other->len);
	g_clear_pointer(&other, g_array_unref);
	add_passes_ok(s, a, again, 0, 3, 3);

	/* Sequence numbers are per roller. */
	other = make_passes(1, 5, 0, DP_ZONE_NONE, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, b, other, 0, 5, 0);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM passes"), ==,
			23);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM"
		" (SELECT roller_id, seq FROM passes GROUP BY 1, 2"
		"  HAVING count(*) > 1)"), ==, 0);

	/* An unassigned pass placed by the user. */
	g_assert_true(store_pass_assign(s, a, 12, s2, DP_ZONE_CHIN, &error));
	g_assert_no_error(error);
	got = store_session_passes(s, s2, &error);
	g_assert_cmpuint(got->len, ==, 1);
	g_assert_cmpuint(g_array_index(got, struct store_pass, 0).dev.seq, ==,
			12);
	g_assert_cmpuint(g_array_index(got, struct store_pass, 0).dev.zone, ==,
			DP_ZONE_CHIN);
	g_clear_pointer(&got, g_array_unref);
	got = store_unassigned_passes(s, a, &error);
	g_assert_cmpuint(got->len, ==, 7);
	g_clear_pointer(&got, g_array_unref);
	g_assert_false(store_pass_assign(s, a, 99, s2, 1, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_pass_assign(s, a, 12, s2, 11, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	store_close(s);
	rm_rf(dir);
}

static uint32_t acked(struct store *s, int64_t roller)
{
	struct store_sync_state st;
	GError *error = NULL;

	g_assert_true(store_sync_state(s, roller, &st, &error));
	g_assert_no_error(error);
	return st.acked_seq;
}

static void test_sync_ack(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	struct store *s = open_ok(path);
	g_autoptr(GArray) a = NULL;
	int64_t roller = add_roller(s, "RLR-ACK");
	struct store_sync_state st;
	unsigned int n_new = 77, n_dup = 77;
	GError *error = NULL;

	g_assert_true(store_sync_state(s, roller, &st, &error));
	g_assert_cmpuint(st.acked_seq, ==, 0);
	g_assert_false(st.has_device_clock);

	a = make_passes(1, 5, 0, 0, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, roller, a, 5, 5, 0);
	g_assert_cmpuint(acked(s, roller), ==, 5);
	g_clear_pointer(&a, g_array_unref);

	/* Committed, then the host dies before the ACK: not acked. */
	a = make_passes(6, 8, 0, 0, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, roller, a, 0, 3, 0);
	g_assert_cmpuint(acked(s, roller), ==, 5);
	g_clear_pointer(&a, g_array_unref);
	store_close(s);

	/* The roller sends 6.. again: duplicates, then new ones, acked. */
	s = open_ok(path);
	g_assert_cmpuint(acked(s, roller), ==, 5);
	a = make_passes(6, 10, 0, 0, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, roller, a, 10, 2, 3);
	g_assert_cmpuint(acked(s, roller), ==, 10);
	g_clear_pointer(&a, g_array_unref);

	/* Never lowered. */
	a = make_passes(3, 4, 0, 0, STORE_SOURCE_OFFLINE);
	add_passes_ok(s, roller, a, 4, 0, 2);
	g_assert_cmpuint(acked(s, roller), ==, 10);
	g_clear_pointer(&a, g_array_unref);

	/* A batch that fails in SQL (pass 12 names no session) stores
	 * nothing and moves nothing: 11 is not there either. */
	a = make_passes(11, 13, 0, 0, STORE_SOURCE_OFFLINE);
	g_array_index(a, struct store_pass, 1).session_id = 4242;
	g_assert_false(store_add_passes(s, roller,
				(const struct store_pass *)a->data, a->len, 13,
				&n_new, &n_dup, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpuint(n_new, ==, 77);
	g_assert_cmpuint(n_dup, ==, 77);
	g_assert_cmpuint(acked(s, roller), ==, 10);
	g_assert_cmpint(query_int(s->db, "SELECT max(seq) FROM passes"), ==,
			10);
	g_assert_true(sqlite3_get_autocommit(s->db));
	g_clear_pointer(&a, g_array_unref);

	/* An empty batch may still carry the ack. */
	g_assert_true(store_add_passes(s, roller, NULL, 0, 10, &n_new, &n_dup,
					&error));
	g_assert_cmpuint(n_new, ==, 0);
	g_assert_cmpuint(n_dup, ==, 0);

	g_assert_true(store_acked_seq_set(s, roller, 20, &error));
	g_assert_true(store_acked_seq_set(s, roller, 15, &error));
	g_assert_cmpuint(acked(s, roller), ==, 20);
	g_assert_true(store_device_clock_set(s, roller, 190000000000u,
						T0 + 5, &error));
	g_assert_no_error(error);
	g_assert_true(store_sync_state(s, roller, &st, &error));
	g_assert_cmpuint(st.acked_seq, ==, 20);
	g_assert_true(st.has_device_clock);
	g_assert_cmpuint(st.device_clock_ms, ==, 190000000000u);
	g_assert_cmpint(st.device_clock_at_ms, ==, T0 + 5);
	store_close(s);
	rm_rf(dir);
}

/* ---- The policy's question, and the clock witness ---- */

static void test_zone_last_treated(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	int64_t a = add_roller(s, "RLR-A"), b = add_roller(s, "RLR-B");
	int64_t s1 = add_session(s, a, 0, 1, T0 + 500);
	int64_t s2 = add_session(s, a, 0, 2, T0 + 4000);
	int64_t s3 = add_session(s, b, 0, 1, T0 + 8000);
	int64_t s4 = add_session(s, b, 0, 2, T0 + 19000);
	struct store_pass p[4];
	struct store_zone_last last;
	struct store_zone_result r = { .zone = DP_ZONE_RIGHT_CHEEK };
	GError *error = NULL;

	g_assert_true(store_zone_last_treated(s, DP_ZONE_RIGHT_CHEEK, 0, &last,
						&error));
	g_assert_cmpint(last.treated_ms, ==, 0);
	g_assert_cmpint(last.session_id, ==, 0);

	/* A long pass that starts first can end last. */
	p[0] = make_pass(1, s1, DP_ZONE_RIGHT_CHEEK, STORE_SOURCE_LIVE);
	p[0].started_ms = T0 + 1000;
	p[0].dev.duration_ms = 500;
	p[1] = make_pass(2, s2, DP_ZONE_RIGHT_CHEEK, STORE_SOURCE_LIVE);
	p[1].started_ms = T0 + 4900;
	p[1].dev.duration_ms = 400;
	p[2] = make_pass(3, s2, DP_ZONE_RIGHT_CHEEK, STORE_SOURCE_LIVE);
	p[2].started_ms = T0 + 5000;
	p[2].dev.duration_ms = 100;
	/* Zone 0: counts for no zone. */
	p[3] = make_pass(4, 0, DP_ZONE_NONE, STORE_SOURCE_OFFLINE);
	p[3].started_ms = T0 + 30000;
	g_assert_true(store_add_passes(s, a, p, 4, 0, NULL, NULL, &error));
	g_assert_no_error(error);

	g_assert_true(store_zone_last_treated(s, DP_ZONE_RIGHT_CHEEK, 0, &last,
						&error));
	g_assert_cmpint(last.treated_ms, ==, T0 + 5300);
	g_assert_cmpint(last.session_id, ==, s2);
	g_assert_cmpint(last.session_started_ms, ==, T0 + 4000);
	/* Before a session that starts at +5000: the pass at +4900 is the
	 * last; at +4900, the one at +1000. */
	g_assert_true(store_zone_last_treated(s, DP_ZONE_RIGHT_CHEEK, T0 + 5000,
						&last, &error));
	g_assert_cmpint(last.treated_ms, ==, T0 + 5300);
	g_assert_true(store_zone_last_treated(s, DP_ZONE_RIGHT_CHEEK, T0 + 4900,
						&last, &error));
	g_assert_cmpint(last.treated_ms, ==, T0 + 1500);
	g_assert_cmpint(last.session_id, ==, s1);
	g_assert_cmpint(last.session_started_ms, ==, T0 + 500);

	/* Another roller's later pass counts: it is the same skin. */
	p[0] = make_pass(1, s3, DP_ZONE_RIGHT_CHEEK, STORE_SOURCE_LIVE);
	p[0].started_ms = T0 + 8000;
	p[0].dev.duration_ms = 1000;
	/* A zone pass in no session (an offline record with a zone). */
	p[1] = make_pass(2, 0, DP_ZONE_NECK, STORE_SOURCE_OFFLINE);
	p[1].started_ms = T0 + 12000;
	p[1].dev.duration_ms = 700;
	g_assert_true(store_add_passes(s, b, p, 2, 0, NULL, NULL, &error));
	g_assert_true(store_zone_last_treated(s, DP_ZONE_RIGHT_CHEEK, 0, &last,
						&error));
	g_assert_cmpint(last.treated_ms, ==, T0 + 9000);
	g_assert_cmpint(last.session_id, ==, s3);
	g_assert_true(store_zone_last_treated(s, DP_ZONE_NECK, 0, &last,
						&error));
	g_assert_cmpint(last.treated_ms, ==, T0 + 12700);
	g_assert_cmpint(last.session_id, ==, 0);
	g_assert_cmpint(last.session_started_ms, ==, T0 + 12000);

	/* A zone result counts when it has passes, even without pass rows;
	 * one with none (a zone skipped) does not. */
	r.passes[ZONE_DIR_VERTICAL] = 2;
	r.started_ms = T0 + 9500;
	r.ended_ms = T0 + 15000;
	g_assert_true(store_zone_result_record(s, s3, &r, &error));
	memset(r.passes, 0, sizeof(r.passes));
	r.started_ms = T0 + 19000;
	r.ended_ms = T0 + 20000;
	g_assert_true(store_zone_result_record(s, s4, &r, &error));
	g_assert_true(store_zone_last_treated(s, DP_ZONE_RIGHT_CHEEK, 0, &last,
						&error));
	g_assert_cmpint(last.treated_ms, ==, T0 + 15000);
	g_assert_cmpint(last.session_id, ==, s3);
	g_assert_cmpint(last.session_started_ms, ==, T0 + 8000);

	g_assert_true(store_zone_last_treated(s, DP_ZONE_SCALP, 0, &last,
						&error));
	g_assert_cmpint(last.treated_ms, ==, 0);
	g_assert_no_error(error);
	g_assert_false(store_zone_last_treated(s, 0, 0, &last, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

static void test_time_seen(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	struct store *s = open_ok(path);
	GError *error = NULL;
	int64_t t = -1;

	g_assert_true(store_time_seen(s, &t, &error));
	g_assert_cmpint(t, ==, 0);
	g_assert_true(store_time_seen_bump(s, T0 + 100, &t, &error));
	g_assert_cmpint(t, ==, T0 + 100);
	/* The clock set back 30 days: "now" stays at the latest seen. */
	g_assert_true(store_time_seen_bump(s, T0 - 30 * DAY_MS, &t, &error));
	g_assert_cmpint(t, ==, T0 + 100);
	store_close(s);

	s = open_ok(path);
	g_assert_true(store_time_seen(s, &t, &error));
	g_assert_cmpint(t, ==, T0 + 100);
	g_assert_true(store_time_seen_bump(s, T0 + 200, NULL, &error));
	g_assert_true(store_time_seen(s, &t, &error));
	g_assert_cmpint(t, ==, T0 + 200);
	g_assert_no_error(error);
	g_assert_true(store_check(s, &error));
	g_assert_no_error(error);
	store_close(s);
	rm_rf(dir);
}

/* ---- Overrides, checklist, journal ---- */

static void test_overrides(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	int64_t roller = add_roller(s, "RLR-O");
	int64_t session = add_session(s, roller, 0, 1, T0);
	const char *reason = "My dermatologist said \"fine\"; see 'plan' ✓";
	struct store_override *o;
	GError *error = NULL;

	g_assert_true(store_override_add(s, session, DP_ZONE_CHIN,
					STORE_OVERRIDE_INTERVAL, reason,
					T0 + 20, &error));
	g_assert_true(store_override_add(s, session, 0,
					STORE_OVERRIDE_HEAD_WEAR,
					"New head is on order", T0 + 10,
					&error));
	g_assert_no_error(error);
	list = store_overrides(s, session, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 2);
	o = list->pdata[0];
	g_assert_cmpint(o->session_id, ==, session);
	g_assert_cmpuint(o->zone, ==, 0);
	g_assert_cmpint(o->kind, ==, STORE_OVERRIDE_HEAD_WEAR);
	g_assert_cmpstr(o->reason, ==, "New head is on order");
	g_assert_cmpint(o->at_ms, ==, T0 + 10);
	o = list->pdata[1];
	g_assert_cmpuint(o->zone, ==, DP_ZONE_CHIN);
	g_assert_cmpint(o->kind, ==, STORE_OVERRIDE_INTERVAL);
	g_assert_cmpstr(o->reason, ==, reason);

	g_assert_false(store_override_add(s, session, 1,
				STORE_OVERRIDE_PASSES, " \n\t", T0, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_override_add(s, session, 1,
				STORE_OVERRIDE_PASSES, NULL, T0, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_override_add(s, session, 1,
				(enum store_override_kind)9, "x", T0, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_override_add(s, 999, 1, STORE_OVERRIDE_PASSES,
				"x", T0, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM overrides"), ==,
			2);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

static void test_checklist(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	int64_t roller = add_roller(s, "RLR-C");
	int64_t session = add_session(s, roller, 0, 1, T0);
	struct store_checklist_answer *a;
	GError *error = NULL;

	g_assert_true(store_checklist_set(s, session, "sunburn", true, T0 + 1,
					&error));
	g_assert_true(store_checklist_set(s, session, "isotretinoin", false,
					T0 + 2, &error));
	/* Changed mind: the answer is replaced, its place kept. */
	g_assert_true(store_checklist_set(s, session, "sunburn", false, T0 + 3,
					&error));
	g_assert_no_error(error);
	list = store_checklist(s, session, &error);
	g_assert_cmpuint(list->len, ==, 2);
	a = list->pdata[0];
	g_assert_cmpstr(a->item, ==, "sunburn");
	g_assert_false(a->yes);
	g_assert_cmpint(a->at_ms, ==, T0 + 3);
	a = list->pdata[1];
	g_assert_cmpstr(a->item, ==, "isotretinoin");
	g_assert_false(a->yes);
	g_assert_cmpint(a->at_ms, ==, T0 + 2);

	g_assert_false(store_checklist_set(s, session, "", true, T0, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(store_checklist_set(s, 999, "acne", true, T0, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

static void test_journal(void)
{
	static const struct store_journal_entry entries[] = {
		{ .at_ms = T0 + DAY_MS, .utc_offset_s = 3600, .zone = 0,
		  .redness = 0, .swelling = 0, .note = (char *)"" },
		{ .at_ms = T0, .utc_offset_s = 19800,
		  .zone = DP_ZONE_DECOLLETAGE, .redness = 2, .swelling = 1,
		  .note = (char *)"Rötung — leicht, 晚上好 \"quoted\"\r\nline 2" },
		{ .at_ms = T0 + 2 * DAY_MS, .utc_offset_s = -28800,
		  .zone = DP_ZONE_SCALP, .redness = 3, .swelling = 3,
		  .note = (char *)"'); DROP TABLE journal_entries; --" },
	};
	static const int order[] = { 1, 0, 2 };
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	struct store *s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	struct store_journal_entry bad;
	GError *error = NULL;
	int64_t ids[3];
	guint i;

	for (i = 0; i < G_N_ELEMENTS(entries); i++) {
		g_assert_true(store_journal_add(s, &entries[i], &ids[i],
						&error));
		g_assert_no_error(error);
	}
	store_close(s);

	s = open_ok(path);
	list = store_journal(s, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 3);
	for (i = 0; i < 3; i++) {
		const struct store_journal_entry *want = &entries[order[i]];
		const struct store_journal_entry *got = list->pdata[i];

		g_assert_cmpint(got->id, ==, ids[order[i]]);
		g_assert_cmpint(got->at_ms, ==, want->at_ms);
		g_assert_cmpint(got->utc_offset_s, ==, want->utc_offset_s);
		g_assert_cmpuint(got->zone, ==, want->zone);
		g_assert_cmpuint(got->redness, ==, want->redness);
		g_assert_cmpuint(got->swelling, ==, want->swelling);
		g_assert_cmpstr(got->note, ==, want->note);
	}
	g_clear_pointer(&list, g_ptr_array_unref);

	list = store_journal(s, T0 + 1, T0 + 2 * DAY_MS, &error);
	g_assert_cmpuint(list->len, ==, 1);
	g_assert_cmpint(((struct store_journal_entry *)list->pdata[0])->id, ==,
			ids[0]);
	g_clear_pointer(&list, g_ptr_array_unref);
	list = store_journal(s, T0 + DAY_MS, 0, &error);
	g_assert_cmpuint(list->len, ==, 2);
	g_clear_pointer(&list, g_ptr_array_unref);

	bad = entries[0];
	bad.redness = 4;
	g_assert_false(store_journal_add(s, &bad, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	bad = entries[0];
	bad.zone = 11;
	g_assert_false(store_journal_add(s, &bad, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	bad = entries[0];
	bad.note = (char *)"bad \xff utf-8";
	g_assert_false(store_journal_add(s, &bad, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM"
				" journal_entries"), ==, 3);
	store_close(s);
	rm_rf(dir);
}

/* ---- History filters ---- */

static void assert_history(struct store *s,
				const struct store_history_filter *f,
				const int64_t *want, guint n)
{
	g_autoptr(GPtrArray) list = NULL;
	GError *error = NULL;
	guint i;

	list = store_history(s, f, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, n);
	for (i = 0; i < n; i++)
		g_assert_cmpint(((struct store_session *)list->pdata[i])->id,
				==, want[i]);
}

static void test_history_filters(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GPtrArray) list = NULL;
	int64_t a = add_roller(s, "RLR-A"), b = add_roller(s, "RLR-B");
	int64_t head_a, head_b, s1, s2, s3, s4, s5;
	struct store_zone_result r = { .passes = { 4, 4, 4 } };
	struct store_history_filter f;
	struct store_pass p;
	GError *error = NULL;

	g_assert_true(store_head_fit(s, a, "H-A", 500, T0, 0, &head_a, &error));
	g_assert_true(store_head_fit(s, b, "H-B", 250, T0, 0, &head_b, &error));
	g_assert_no_error(error);
	/* Added out of time order on purpose. */
	s4 = add_session(s, b, head_b, 2, T0 + 5 * DAY_MS);
	s1 = add_session(s, a, head_a, 1, T0 + DAY_MS);
	s2 = add_session(s, a, head_a, 2, T0 + 2 * DAY_MS);
	s3 = add_session(s, b, head_b, 1, T0 + 2 * DAY_MS + 3600000);
	s5 = add_session(s, a, head_a, 3, T0 + 9 * DAY_MS);

	r.zone = DP_ZONE_FOREHEAD;
	g_assert_true(store_zone_result_record(s, s1, &r, &error));
	r.zone = DP_ZONE_LEFT_CHEEK;
	g_assert_true(store_zone_result_record(s, s1, &r, &error));
	r.zone = DP_ZONE_FOREHEAD;
	g_assert_true(store_zone_result_record(s, s3, &r, &error));
	r.zone = DP_ZONE_NOSE;
	g_assert_true(store_zone_result_record(s, s4, &r, &error));
	/* s2 touched the right cheek by a pass only. */
	p = make_pass(1, s2, DP_ZONE_RIGHT_CHEEK, STORE_SOURCE_LIVE);
	g_assert_true(store_add_passes(s, a, &p, 1, 0, NULL, NULL, &error));
	g_assert_no_error(error);

	{
		const int64_t all[] = { s1, s2, s3, s4, s5 };
		const int64_t from2[] = { s2, s3, s4, s5 };
		const int64_t to2[] = { s1 };
		const int64_t day2[] = { s2, s3 };
		const int64_t forehead[] = { s1, s3 };
		const int64_t right_cheek[] = { s2 };
		const int64_t roller_b[] = { s3, s4 };
		const int64_t b_forehead[] = { s3 };

		assert_history(s, NULL, all, 5);
		f = (struct store_history_filter){ .from_ms = T0 + 2 * DAY_MS };
		assert_history(s, &f, from2, 4);
		f = (struct store_history_filter){ .to_ms = T0 + 2 * DAY_MS };
		assert_history(s, &f, to2, 1);
		f = (struct store_history_filter){
			.from_ms = T0 + 2 * DAY_MS, .to_ms = T0 + 3 * DAY_MS };
		assert_history(s, &f, day2, 2);
		f = (struct store_history_filter){ .zone = DP_ZONE_FOREHEAD };
		assert_history(s, &f, forehead, 2);
		f = (struct store_history_filter){
			.zone = DP_ZONE_RIGHT_CHEEK };
		assert_history(s, &f, right_cheek, 1);
		f = (struct store_history_filter){ .roller_id = b };
		assert_history(s, &f, roller_b, 2);
		f = (struct store_history_filter){ .roller_id = b,
						   .zone = DP_ZONE_FOREHEAD };
		assert_history(s, &f, b_forehead, 1);
		f = (struct store_history_filter){ .zone = DP_ZONE_HANDS };
		assert_history(s, &f, NULL, 0);
		f = (struct store_history_filter){
			.from_ms = T0 + 20 * DAY_MS };
		assert_history(s, &f, NULL, 0);
	}

	/* The head's use number, in time order. */
	list = store_history(s, NULL, &error);
	g_assert_cmpuint(((struct store_session *)list->pdata[0])->head_use,
			==, 1);
	g_assert_cmpuint(((struct store_session *)list->pdata[1])->head_use,
			==, 2);
	g_assert_cmpuint(((struct store_session *)list->pdata[3])->head_use,
			==, 2);
	g_assert_cmpuint(((struct store_session *)list->pdata[4])->head_use,
			==, 3);
	g_assert_cmpstr(((struct store_session *)list->pdata[3])->head_serial,
			==, "H-B");
	g_assert_cmpuint(((struct store_session *)list->pdata[3])->needle_um,
			==, 250);

	f = (struct store_history_filter){ .zone = 11 };
	g_assert_null(store_history(s, &f, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

/* ---- Robustness: files that must be refused, untouched ---- */

static void test_garbage(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(GRand) rand = g_rand_new_with_seed(4242);
	guint8 junk[8192];
	guint i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (guint8)g_rand_int(rand);
	g_assert_true(g_file_set_contents(path, (char *)junk, sizeof(junk),
						NULL));
	assert_refused(path, STORE_ERROR_CORRUPT, "not an SQLite database");

	/* Text, and a file shorter than the magic. */
	g_assert_true(g_file_set_contents(path, "name,date\n", -1, NULL));
	assert_refused(path, STORE_ERROR_CORRUPT, "not an SQLite database");
	g_assert_true(g_file_set_contents(path, "abc", -1, NULL));
	assert_refused(path, STORE_ERROR_CORRUPT, "not an SQLite database");
	rm_rf(dir);
}

static void test_truncated(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autofree char *copy = g_build_filename(dir, "copy.db", NULL);
	g_autofree char *bytes = NULL;
	gsize len;

	make_history(path, 2000);
	g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
	g_assert_cmpuint(len, >, 40 * 4096);
	g_assert_cmpuint(len % 4096, ==, 0);

	/* Cut at a page boundary, inside a page, and inside the header. */
	g_assert_true(g_file_set_contents(copy, bytes, len / 2 / 4096 * 4096,
						NULL));
	assert_refused(copy, STORE_ERROR_CORRUPT, "cut short");
	g_assert_true(g_file_set_contents(copy, bytes, 3 * 4096 + 1000, NULL));
	assert_refused(copy, STORE_ERROR_CORRUPT, "cut short");
	g_assert_true(g_file_set_contents(copy, bytes, 60, NULL));
	assert_refused(copy, STORE_ERROR_CORRUPT, "cut short");
	g_assert_true(g_file_set_contents(copy, bytes, len - 4096, NULL));
	assert_refused(copy, STORE_ERROR_CORRUPT, "cut short");

	/* The intact file still opens. */
	store_close(open_ok(path));
	rm_rf(dir);
}

static void test_corrupt_header_valid(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	guint8 junk[4096 - 100];

	/* The 100-byte header is intact; the schema page after it is not. */
	make_history(path, 50);
	memset(junk, 0xa5, sizeof(junk));
	write_at(path, 100, junk, sizeof(junk));
	assert_refused(path, STORE_ERROR_CORRUPT, "is damaged");
	rm_rf(dir);
}

static void test_corrupt_table(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autofree char *wal = sibling(path, "-wal");
	g_autoptr(GArray) got = NULL;
	struct snapshot sn;
	guint8 junk[4096];
	GError *error = NULL;
	struct store *s;
	int64_t root;
	sqlite3 *db;

	/* Damage deep in the passes table: the schema opens, and the
	 * first read that meets the damage says so. */
	make_history(path, 2000);
	db = raw_open(path);
	root = query_int(db, "SELECT rootpage FROM sqlite_master"
				" WHERE name = 'passes'");
	sqlite3_close(db);
	memset(junk, 0x5a, sizeof(junk));
	write_at(path, (root - 1) * 4096, junk, sizeof(junk));
	snapshot_take(path, &sn);

	s = store_open(path, STORE_OPEN_DEFAULT, &error);
	g_assert_no_error(error);
	got = store_session_passes(s, 1, &error);
	g_assert_null(got);
	g_assert_error(error, STORE_ERROR, STORE_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "Could not read the passes"));
	g_clear_error(&error);
	g_assert_false(store_check(s, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, path));
	g_clear_error(&error);
	store_close(s);
	snapshot_assert_same(path, &sn);
	g_assert_false(exists(wal));
	rm_rf(dir);
}

static void test_future_schema(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	GError *error = NULL;
	sqlite3 *db;

	make_history(path, 10);
	db = raw_open(path);
	exec_ok(db, "PRAGMA user_version = 3");
	sqlite3_close(db);
	assert_refused(path, STORE_ERROR_TOO_NEW,
		"This history was written by a newer version of dermaroll");

	g_assert_null(store_open(path, STORE_OPEN_DEFAULT, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_TOO_NEW);
	g_assert_true(g_str_has_prefix(error->message,
		"This history was written by a newer version of dermaroll "
		"(history format 3; this version knows formats up to 2)."));
	g_clear_error(&error);
	rm_rf(dir);
}

/* The newer format's commit still in the -wal: the main file's header is
 * the old one, and SQLite's view is what counts.  Neither file changes. */
static void test_future_schema_in_wal(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autofree char *wal = sibling(path, "-wal");
	struct snapshot sn_wal;
	sqlite3 *db;

	make_history(path, 10);
	db = raw_open(path);
	g_assert_cmpint(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
					1, NULL), ==, SQLITE_OK);
	exec_ok(db, "PRAGMA user_version = 5");
	sqlite3_close(db);
	g_assert_true(exists(wal));

	snapshot_take(wal, &sn_wal);
	assert_refused(path, STORE_ERROR_TOO_NEW, "history format 5");
	snapshot_assert_same(wal, &sn_wal);
	rm_rf(dir);
}

static void test_foreign_database(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	sqlite3 *db;

	db = raw_create(path);
	exec_ok(db, "CREATE TABLE notes (t TEXT); INSERT INTO notes"
		" VALUES ('mine')");
	sqlite3_close(db);
	assert_refused(path, STORE_ERROR_CORRUPT, "another program");

	g_assert_cmpint(remove(path), ==, 0);
	db = raw_create(path);
	exec_ok(db, "PRAGMA application_id = 305419896; CREATE TABLE t (x)");
	sqlite3_close(db);
	assert_refused(path, STORE_ERROR_CORRUPT, "another program");
	rm_rf(dir);
}

static void test_locked(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GArray) a = make_passes(1, 10, 0, 0, STORE_SOURCE_OFFLINE);
	g_autoptr(GPtrArray) list = NULL;
	int64_t roller = add_roller(s, "RLR-L");
	GError *error = NULL;
	gint64 t;
	sqlite3 *other = raw_open(path);

	/* Another dermaroll holds a write transaction open. */
	exec_ok(other, "BEGIN IMMEDIATE; INSERT INTO journal_entries"
		" (at_ms, utc_offset_s, redness, swelling)"
		" VALUES (1, 0, 0, 0)");

	t = g_get_monotonic_time();
	g_assert_false(store_add_passes(s, roller,
				(const struct store_pass *)a->data, a->len, 10,
				NULL, NULL, &error));
	t = g_get_monotonic_time() - t;
	g_assert_error(error, STORE_ERROR, STORE_ERROR_LOCKED);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "another dermaroll program"));
	g_clear_error(&error);
	/* It waited the busy timeout, and not much more. */
	g_assert_cmpint(t, >=, (STORE_BUSY_TIMEOUT_MS - 50) * 1000);
	g_assert_cmpint(t, <, 5 * G_USEC_PER_SEC);

	g_assert_false(store_time_seen_bump(s, T0, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_LOCKED);
	g_clear_error(&error);

	/* Readers are not held up by a writer (WAL), and an up-to-date
	 * history opens: `dermaroll history` works during a session. */
	list = store_history(s, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 0);
	{
		g_autoptr(Store) reader = open_ok(path);
		g_autoptr(GPtrArray) rollers = store_rollers(reader, true,
								&error);

		g_assert_no_error(error);
		g_assert_cmpuint(rollers->len, ==, 1);
	}

	exec_ok(other, "ROLLBACK");
	g_assert_cmpuint(acked(s, roller), ==, 0);
	add_passes_ok(s, roller, a, 10, 10, 0);
	g_assert_cmpuint(acked(s, roller), ==, 10);
	sqlite3_close(other);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

static void test_locked_exclusive(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	GError *error = NULL;
	sqlite3 *other;

	make_history(path, 10);
	/* Exclusive locking mode shuts readers out too: opening fails. */
	other = raw_open(path);
	exec_ok(other, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;"
		" UPDATE rollers SET name = 'x'");
	g_assert_null(store_open(path, STORE_OPEN_DEFAULT, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_LOCKED);
	g_assert_nonnull(strstr(error->message, path));
	g_clear_error(&error);
	exec_ok(other, "ROLLBACK");
	sqlite3_close(other);
	store_close(open_ok(path));
	rm_rf(dir);
}

static void test_missing(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *sub = g_build_filename(dir, "nothing", "here", NULL);
	g_autofree char *in_sub = db_in(sub);
	g_autofree char *path = db_in(dir);
	g_autofree char *blocker = g_build_filename(dir, "a-file", NULL);
	g_autofree char *blocked = g_build_filename(blocker, "sub", NULL);
	g_autofree char *under_file = db_in(blocked);
	g_autofree char *want = NULL;
	GError *error = NULL;

	/* No folder, not asked to create it. */
	g_assert_null(store_open(in_sub, STORE_OPEN_DEFAULT, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, sub));
	g_clear_error(&error);
	g_assert_false(exists(sub));

	/* A folder but no file. */
	g_assert_null(store_open(path, STORE_OPEN_DEFAULT, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, path));
	g_clear_error(&error);
	g_assert_false(exists(path));

	/* An empty file is no history yet. */
	g_assert_true(g_file_set_contents(path, "", 0, NULL));
	g_assert_null(store_open(path, STORE_OPEN_DEFAULT, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	store_close(open_ok(path));

	/* A folder that cannot be made: its parent is a file. */
	g_assert_true(g_file_set_contents(blocker, "x", -1, NULL));
	g_assert_null(store_open(under_file, STORE_OPEN_CREATE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_IO);
	want = g_strdup_printf("Could not create the history's folder %s: "
				"part of that path is a file, not a folder.",
				blocked);
	g_assert_true(g_str_has_prefix(error->message, want));
	g_clear_error(&error);

	/* The path is a folder. */
	g_assert_cmpint(g_mkdir_with_parents(sub, 0700), ==, 0);
	g_assert_null(store_open(sub, STORE_OPEN_CREATE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_IO);
	g_assert_nonnull(strstr(error->message, "not a regular file"));
	g_clear_error(&error);
	rm_rf(dir);
}

/* The child of test_read_only(): an unprivileged user when we are root
 * (root ignores file modes), in a fresh process. */
static void read_only_child(void)
{
	const char *in_sub = g_getenv("STORE_TEST_IN_SUB");
	const char *in_ro = g_getenv("STORE_TEST_IN_RO");
	g_autofree char *sub = g_path_get_dirname(in_sub);
	g_autofree char *want = NULL;
	GError *error = NULL;

	if (geteuid() == 0)
		g_assert_true(setgroups(0, NULL) == 0 && setgid(65534) == 0 &&
				setuid(65534) == 0);

	/* A folder that cannot be created in a read-only folder. */
	g_assert_null(store_open(in_sub, STORE_OPEN_CREATE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_PERMISSION);
	want = g_strdup_printf("Could not create the history's folder %s: %s. "
				"Check that", sub, g_strerror(EACCES));
	g_assert_true(g_str_has_prefix(error->message, want));
	g_clear_error(&error);
	g_clear_pointer(&want, g_free);

	/* A history that can be read but not written. */
	g_assert_null(store_open(in_ro, STORE_OPEN_CREATE, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_PERMISSION);
	want = g_strdup_printf("Could not open the history: dermaroll may read "
				"the history file %s but not write it.", in_ro);
	g_assert_true(g_str_has_prefix(error->message, want));
	g_clear_error(&error);
}

static void test_read_only(void)
{
	g_autofree char *dir = NULL;
	g_autofree char *ro = NULL;
	g_autofree char *in_ro = NULL;
	g_autofree char *sub = NULL;
	g_autofree char *in_sub = NULL;
	struct snapshot sn;

	if (g_test_subprocess()) {
		read_only_child();
		return;
	}
	dir = tmp_dir();
	ro = g_build_filename(dir, "ro", NULL);
	in_ro = db_in(ro);
	sub = g_build_filename(ro, "sub", NULL);
	in_sub = db_in(sub);
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(ro, 0755), ==, 0);
	make_history(in_ro, 10);
	g_assert_cmpint(chmod(in_ro, 0644), ==, 0);
	g_assert_cmpint(chmod(ro, 0555), ==, 0);
	snapshot_take(in_ro, &sn);

	g_setenv("STORE_TEST_IN_SUB", in_sub, TRUE);
	g_setenv("STORE_TEST_IN_RO", in_ro, TRUE);
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_unsetenv("STORE_TEST_IN_SUB");
	g_unsetenv("STORE_TEST_IN_RO");
	g_test_trap_assert_passed();
	snapshot_assert_same(in_ro, &sn);
	g_assert_false(exists(sub));

	g_assert_cmpint(chmod(ro, 0700), ==, 0);
	rm_rf(dir);
}

static void test_disk_full_page_limit(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	g_autoptr(GArray) small = make_passes(1, 5, 0, 0, STORE_SOURCE_OFFLINE);
	g_autoptr(GArray) big = make_passes(6, 1005, 0, 0,
						STORE_SOURCE_OFFLINE);
	int64_t roller = add_roller(s, "RLR-FULL");
	g_autofree char *limit = NULL;
	g_autofree char *note = g_strnfill(3000, 'n');
	struct store_journal_entry e = { .at_ms = T0, .note = note };
	unsigned int n_new = 77;
	GError *error = NULL;
	int i;

	add_passes_ok(s, roller, small, 5, 5, 0);
	/* The file may not grow: SQLite answers SQLITE_FULL, exactly as it
	 * does for ENOSPC. */
	limit = g_strdup_printf("PRAGMA max_page_count = %" G_GINT64_FORMAT,
				query_int(s->db, "PRAGMA page_count"));
	exec_ok(s->db, limit);

	g_assert_false(store_add_passes(s, roller,
				(const struct store_pass *)big->data, big->len,
				1005, &n_new, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NO_SPACE);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "is full"));
	g_assert_nonnull(strstr(error->message, "Could not save the passes"));
	g_clear_error(&error);
	g_assert_cmpuint(n_new, ==, 77);
	g_assert_cmpuint(acked(s, roller), ==, 5);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM passes"), ==, 5);
	g_assert_true(sqlite3_get_autocommit(s->db));

	for (i = 0; i < 20; i++)
		if (!store_journal_add(s, &e, NULL, &error))
			break;
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NO_SPACE);
	g_clear_error(&error);

	/* Space again: the same batch goes in whole. */
	exec_ok(s->db, "PRAGMA max_page_count = 1000000");
	add_passes_ok(s, roller, big, 1005, 1000, 0);
	g_assert_cmpuint(acked(s, roller), ==, 1005);
	g_assert_true(store_check(s, &error));
	g_assert_no_error(error);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

/*
 * The child of test_disk_full_tmpfs(), in a fresh process and a private
 * mount namespace: a 320 KiB tmpfs that really fills up (ENOSPC, not a
 * page limit).  It writes its outcome to @result, outside the mount.
 */
static void tmpfs_child(void)
{
	const char *dir = g_getenv("STORE_TEST_MNT");
	const char *result = g_getenv("STORE_TEST_RESULT");
	g_autofree char *path = db_in(dir);
	g_autofree char *line = NULL;
	g_autofree char *want = NULL;
	GError *error = NULL;
	struct store *s;
	uint32_t next = 1;
	int64_t roller = 0, stored;

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=320k,mode=0700") != 0) {
		line = g_strdup_printf("skip: cannot mount a tmpfs here (%s)",
					g_strerror(errno));
		g_assert_true(g_file_set_contents(result, line, -1, NULL));
		return;
	}
	s = open_ok(path);
	g_assert_true(store_roller_update(s, "RLR-TMPFS", "1", T0, &roller,
						&error));
	for (;;) {
		g_autoptr(GArray) a = make_passes(next, next + 49, 0, 0,
						STORE_SOURCE_OFFLINE);

		if (!store_add_passes(s, roller,
				(const struct store_pass *)a->data, a->len,
				next + 49, NULL, NULL, &error))
			break;
		next += 50;
	}
	g_assert_error(error, STORE_ERROR, STORE_ERROR_NO_SPACE);
	want = g_strdup_printf("Could not save the passes: the disk that holds "
				"the history file %s is full.", path);
	g_assert_true(g_str_has_prefix(error->message, want));
	g_clear_error(&error);
	g_assert_cmpuint(next, >, 1);
	store_close(s);

	/* Every committed pass is there, and the file is sound. */
	s = store_open(path, STORE_OPEN_DEFAULT, &error);
	g_assert_no_error(error);
	stored = query_int(s->db, "SELECT count(*) FROM passes");
	g_assert_cmpint(stored, ==, next - 1);
	g_assert_cmpuint(acked(s, roller), ==, next - 1);
	g_assert_true(store_check(s, &error));
	g_assert_no_error(error);
	store_close(s);
	line = g_strdup_printf("ok: %" G_GINT64_FORMAT " passes stored before "
				"the 320 KiB disk was full", stored);
	g_assert_true(g_file_set_contents(result, line, -1, NULL));
}

static void test_disk_full_tmpfs(void)
{
	g_autofree char *dir = NULL;
	g_autofree char *mnt = NULL;
	g_autofree char *result = NULL;
	g_autofree char *got = NULL;
	g_autofree char *under = NULL;

	if (g_test_subprocess()) {
		tmpfs_child();
		return;
	}
	if (geteuid() != 0) {
		g_test_skip("needs root to mount a small tmpfs (the page-limit "
				"test covers SQLITE_FULL without it)");
		return;
	}
	dir = tmp_dir();
	mnt = g_build_filename(dir, "mnt", NULL);
	result = g_build_filename(dir, "result", NULL);
	g_assert_cmpint(g_mkdir(mnt, 0700), ==, 0);
	g_setenv("STORE_TEST_MNT", mnt, TRUE);
	g_setenv("STORE_TEST_RESULT", result, TRUE);
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_unsetenv("STORE_TEST_MNT");
	g_unsetenv("STORE_TEST_RESULT");
	g_test_trap_assert_passed();
	g_assert_true(g_file_get_contents(result, &got, NULL, NULL));
	g_test_message("tmpfs: %s", got);
	if (g_str_has_prefix(got, "skip"))
		g_test_skip(got);
	else
		g_assert_true(g_str_has_prefix(got, "ok: "));
	/* The tmpfs went with the child's namespace. */
	under = db_in(mnt);
	g_assert_false(exists(under));
	rm_rf(dir);
}

static void test_invalid_passes(void)
{
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	g_autoptr(Store) s = open_ok(path);
	int64_t roller = add_roller(s, "RLR-INV");
	struct store_pass ok = make_pass(1, 0, 0, STORE_SOURCE_LIVE);
	struct store_pass p[2];
	GError *error = NULL;
	guint i;
	struct store_pass bad[6];

	for (i = 0; i < G_N_ELEMENTS(bad); i++)
		bad[i] = make_pass(2, 0, 0, STORE_SOURCE_LIVE);
	bad[0].dev.seq = 0;
	bad[1].dev.zone = 11;
	bad[2].dev.direction = 3;
	bad[3].dev.angle_deg = 180;
	bad[4].dir_class = (enum zone_dir)3;
	bad[5].source = (enum store_pass_source)2;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		p[0] = ok;
		p[1] = bad[i];
		g_assert_false(store_add_passes(s, roller, p, 2, 2, NULL, NULL,
						&error));
		g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
		g_assert_true(g_str_has_prefix(error->message,
					"Could not save the passes: a pass "));
		g_clear_error(&error);
	}
	/* An unknown roller. */
	g_assert_false(store_add_passes(s, 999, &ok, 1, 1, NULL, NULL, &error));
	g_assert_error(error, STORE_ERROR, STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM passes"), ==, 0);
	g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM sync_state"), ==,
			0);
	g_clear_pointer(&s, store_close);
	rm_rf(dir);
}

/* ---- Crash safety: SIGKILL at random points ---- */

/* What the child reports after store_add_passes() returned TRUE: one
 * write, smaller than PIPE_BUF, so it arrives whole or not at all. */
struct committed {
	uint32_t first, last, ack;
};

static G_NORETURN void kill_child(const char *path, int fd, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	struct store_sync_state sync;
	struct store *s;
	int64_t roller;
	uint32_t next;

	s = store_open(path, STORE_OPEN_CREATE, NULL);
	if (!s)
		_exit(10);
	/* Checkpoints often, so that kills land inside them too. */
	sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 16", NULL, NULL, NULL);
	if (!store_roller_update(s, "RLR-KILL", "1.0.0", T0, &roller, NULL) ||
	    !store_sync_state(s, roller, &sync, NULL))
		_exit(11);
	/* The roller sends again from the first unacked record, and now and
	 * then from a little before it. */
	next = sync.acked_seq + 1;
	if (g_rand_boolean(rand))
		next -= MIN(sync.acked_seq,
				(uint32_t)g_rand_int_range(rand, 0, 6));
	for (;;) {
		uint32_t n = (uint32_t)g_rand_int_range(rand, 1, 65);
		g_autoptr(GArray) a = make_passes(next, next + n - 1, 0, 0,
						STORE_SOURCE_OFFLINE);
		struct committed c = { next, next + n - 1, 0 };

		/* Sometimes committed and not acked, as when the host dies
		 * between the commit and the ACK. */
		if (g_rand_int_range(rand, 0, 3))
			c.ack = c.last;
		if (!store_add_passes(s, roller,
				(const struct store_pass *)a->data, a->len,
				c.ack, NULL, NULL, NULL))
			_exit(12);
		if (write(fd, &c, sizeof(c)) != sizeof(c))
			_exit(13);
		next = c.last + 1;
	}
}

/* Creates a history and says so; then waits to be killed. */
static G_NORETURN void create_child(const char *path, int fd)
{
	struct store *s = store_open(path, STORE_OPEN_CREATE, NULL);
	char done = 'c';

	if (!s)
		_exit(10);
	if (write(fd, &done, 1) != 1)
		_exit(13);
	for (;;)
		pause();
}

/*
 * SIGKILL while the file is created and its schema applied: the next open
 * must find either nothing (an empty file) or the whole schema, and
 * finish the job.  Returns how many children died before they were done.
 */
static guint kill_during_create(const char *dir, GRand *rand, guint kills)
{
	g_autofree char *probe = g_build_filename(dir, "probe.db", NULL);
	gint64 open_us = g_get_monotonic_time();
	guint k, early = 0;

	store_close(open_ok(probe));
	open_us = g_get_monotonic_time() - open_us;

	for (k = 0; k < kills; k++) {
		g_autofree char *name = g_strdup_printf("create-%u.db", k);
		g_autofree char *path = g_build_filename(dir, name, NULL);
		guint delay_us = (guint)g_rand_int_range(rand, 0,
						(gint32)(3 * open_us + 2000));
		struct store *s;
		int fds[2], status;
		char done;
		pid_t pid;

		g_assert_cmpint(pipe(fds), ==, 0);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			close(fds[0]);
			create_child(path, fds[1]);
		}
		close(fds[1]);
		g_usleep(delay_us);
		g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
		if (read(fds[0], &done, 1) != 1)
			early++;
		close(fds[0]);
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		g_assert_true(WIFSIGNALED(status));

		s = open_ok(path);
		g_assert_cmpint(query_int(s->db, "PRAGMA user_version"), ==,
				store_schema_version());
		g_assert_cmpint(query_int(s->db, "SELECT count(*) FROM"
				" sqlite_master WHERE name = 'passes'"), ==, 1);
		g_assert_true(store_check(s, NULL));
		store_close(s);
	}
	return early;
}

static gboolean read_committed(int fd, struct committed *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return FALSE;
	n = read(fd, c, sizeof(*c));
	if (n == 0)
		return FALSE;
	g_assert_cmpint(n, ==, sizeof(*c));
	return TRUE;
}

/* Each stored pass still carries the figures make_pass() gave its seq. */
static const char sql_torn[] =
	"SELECT count(*) FROM passes WHERE duration_ms != 800 + seq % 100"
	" OR peak_force_cn != 300 + seq % 50"
	" OR started_ms != 1767225600000 + seq * 1500";

static void test_kill(void)
{
	const char *env = g_getenv("DERMAROLL_KILL_POINTS");
	const char *env_seed = g_getenv("DERMAROLL_KILL_SEED");
	guint kills = env ? (guint)atoi(env) : 60;
	guint32 seed = env_seed ? (guint32)strtoul(env_seed, NULL, 0) : 0x5eed;
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	g_autofree char *dir = tmp_dir();
	g_autofree char *path = db_in(dir);
	uint32_t max_reported = 0, max_ack_reported = 0;
	guint k, unreported = 0, reports = 0, early;
	guint create_kills = kills / 3;
	gint64 t0 = g_get_monotonic_time(), stored = 0;

	g_test_message("kill test: %u + %u kill points, seed %#x", kills,
			create_kills, seed);
	early = kill_during_create(dir, rand, create_kills);
	g_test_message("kill test: %u kills while creating, %u before the "
			"open returned", create_kills, early);

	for (k = 0; k < kills; k++) {
		guint wait_for = (guint)g_rand_int_range(rand, 0, 12);
		guint delay_us = (guint)g_rand_int_range(rand, 0, 4000);
		guint32 child_seed = g_rand_int(rand);
		struct store_sync_state sync;
		struct committed c;
		struct store *s;
		GError *error = NULL;
		int fds[2], status;
		guint got = 0;
		pid_t pid;

		g_assert_cmpint(pipe(fds), ==, 0);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			close(fds[0]);
			kill_child(path, fds[1], child_seed);
		}
		close(fds[1]);
		while (got < wait_for && read_committed(fds[0], &c, 30000)) {
			got++;
			max_reported = MAX(max_reported, c.last);
			max_ack_reported = MAX(max_ack_reported, c.ack);
		}
		g_assert_cmpuint(got, ==, wait_for);
		g_usleep(delay_us);
		g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
		/* Whatever it reported before it died. */
		while (read_committed(fds[0], &c, 30000)) {
			got++;
			max_reported = MAX(max_reported, c.last);
			max_ack_reported = MAX(max_ack_reported, c.ack);
		}
		close(fds[0]);
		reports += got;
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		if (!WIFSIGNALED(status))
			g_error("kill %u: child exited with %d", k,
				WEXITSTATUS(status));
		g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);

		s = store_open(path, STORE_OPEN_CREATE, &error);
		g_assert_no_error(error);
		g_assert_true(store_check(s, &error));
		g_assert_no_error(error);
		if (query_int(s->db, "SELECT count(*) FROM rollers") == 0) {
			/* Killed before its first commit. */
			g_assert_cmpuint(max_reported, ==, 0);
			store_close(s);
			continue;
		}
		/* No seq twice and no gap: exactly 1..max.  The child sends
		 * from at most acked + 1, so a gap would be a lost pass. */
		stored = query_int(s->db, "SELECT count(*) FROM passes");
		g_assert_cmpint(query_int(s->db, "SELECT count(DISTINCT seq)"
				" FROM passes"), ==, stored);
		g_assert_cmpint(query_int(s->db, "SELECT coalesce(max(seq), 0)"
				" FROM passes"), ==, stored);
		/* Every batch reported committed is there, whole. */
		g_assert_cmpint(stored, >=, max_reported);
		g_assert_cmpint(query_int(s->db, sql_torn), ==, 0);
		if (stored > max_reported)
			unreported++;
		/* The ack never runs ahead of the commits, nor behind a
		 * reported one. */
		g_assert_true(store_sync_state(s, 1, &sync, &error));
		g_assert_cmpuint(sync.acked_seq, >=, max_ack_reported);
		g_assert_cmpint(sync.acked_seq, <=, stored);
		store_close(s);
	}
	g_test_message("kill test: %u kills in commits, %u batches reported, "
			"%" G_GINT64_FORMAT " passes stored, %u kills between "
			"a commit and its report, %.1f s", kills, reports,
			stored, unreported,
			(double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	g_assert_cmpuint(max_reported, >, 0);
	rm_rf(dir);
}

int main(int argc, char **argv)
{
	g_autofree char *data_home = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	/* Before anything asks GLib for it (GLib keeps the first answer):
	 * the default history goes here, never into the real home.
	 * (G_TEST_OPTION_ISOLATE_DIRS would do it, but leaks in GLib 2.74.)
	 * A subprocess inherits the parent's. */
	if (!g_test_subprocess()) {
		data_home = tmp_dir();
		g_setenv("XDG_DATA_HOME", data_home, TRUE);
	}

	g_test_add_func("/store/schema/create", test_schema_create);
	g_test_add_func("/store/schema/reopen", test_schema_reopen);
	g_test_add_func("/store/schema/steps", test_schema_steps);
	g_test_add_func("/store/file/default-path", test_default_path);
	g_test_add_func("/store/file/mode-0600", test_mode_0600);
	g_test_add_func("/store/rollers", test_rollers);
	g_test_add_func("/store/rollers/address", test_roller_address);
	g_test_add_func("/store/rollers/robustness/address-invalid",
			test_roller_address_invalid);
	g_test_add_func("/store/schema/migrate-address", test_migrate_address);
	g_test_add_func("/store/heads", test_heads);
	g_test_add_func("/store/sessions", test_sessions);
	g_test_add_func("/store/zone-results", test_zone_results);
	g_test_add_func("/store/passes/round-trip", test_passes_round_trip);
	g_test_add_func("/store/passes/dedup", test_passes_dedup);
	g_test_add_func("/store/sync/ack", test_sync_ack);
	g_test_add_func("/store/zone-last-treated", test_zone_last_treated);
	g_test_add_func("/store/time-seen", test_time_seen);
	g_test_add_func("/store/overrides", test_overrides);
	g_test_add_func("/store/checklist", test_checklist);
	g_test_add_func("/store/journal", test_journal);
	g_test_add_func("/store/history/filters", test_history_filters);
	g_test_add_func("/store/robustness/garbage", test_garbage);
	g_test_add_func("/store/robustness/truncated", test_truncated);
	g_test_add_func("/store/robustness/corrupt-header-valid",
			test_corrupt_header_valid);
	g_test_add_func("/store/robustness/corrupt-table", test_corrupt_table);
	g_test_add_func("/store/robustness/future-schema", test_future_schema);
	g_test_add_func("/store/robustness/future-schema-in-wal",
			test_future_schema_in_wal);
	g_test_add_func("/store/robustness/foreign-database",
			test_foreign_database);
	g_test_add_func("/store/robustness/locked", test_locked);
	g_test_add_func("/store/robustness/locked-exclusive",
			test_locked_exclusive);
	g_test_add_func("/store/robustness/missing", test_missing);
	g_test_add_func("/store/robustness/read-only", test_read_only);
	g_test_add_func("/store/robustness/disk-full-page-limit",
			test_disk_full_page_limit);
	g_test_add_func("/store/robustness/disk-full-tmpfs",
			test_disk_full_tmpfs);
	g_test_add_func("/store/robustness/invalid-passes",
			test_invalid_passes);
	g_test_add_func("/store/crash/sigkill", test_kill);

	rc = g_test_run();
	if (data_home)
		rm_rf(data_home);
	return rc;
}
