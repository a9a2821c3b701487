/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the history: rollers, heads, sessions with their zone results,
 * passes, overrides, checklist answers, the journal, and when each zone was
 * last treated (for the safety policy).
 */
#define G_LOG_DOMAIN "dermaroll-store"

#include <string.h>

#include <glib.h>

#include "store-private.h"

/* A pass can last at most this long (dp_pass.duration_ms is a u16). */
#define PASS_MAX_MS 65535

/* Text back to enum; the schema's CHECKs allow only these words. */
static int word_index(const unsigned char *word, const char *const *words,
			int n, int fallback)
{
	int i;

	for (i = 0; word && i < n; i++)
		if (strcmp((const char *)word, words[i]) == 0)
			return i;
	return fallback;
}

static enum store_session_state session_state(const unsigned char *w)
{
	static const char *const words[] = {
		"open", "completed", "aborted", "interrupted",
	};

	return word_index(w, words, G_N_ELEMENTS(words), STORE_SESSION_OPEN);
}

static enum zone_dir dir_class(const unsigned char *w)
{
	static const char *const words[] = {
		"horizontal", "vertical", "diagonal",
	};

	return word_index(w, words, G_N_ELEMENTS(words), ZONE_DIR_HORIZONTAL);
}

static enum store_override_kind override_kind(const unsigned char *w)
{
	static const char *const words[] = {
		"interval", "passes", "head_wear", "checklist",
	};

	return word_index(w, words, G_N_ELEMENTS(words),
				STORE_OVERRIDE_INTERVAL);
}

static void bind_bound(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* Finish a row loop: rc is the last sqlite3_step() result. */
static gboolean rows_done(struct store *s, sqlite3_stmt *st, int rc,
				const char *doing, GError **error)
{
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return TRUE;
	store_set_error(s, rc, doing, error);
	return FALSE;
}

/* ---- Free functions ---- */

void store_roller_free(struct store_roller *r)
{
	if (!r)
		return;
	g_free(r->serial);
	g_free(r->name);
	g_free(r->firmware);
	g_free(r->address);
	g_free(r);
}

void store_head_clear(struct store_head *h)
{
	g_clear_pointer(&h->serial, g_free);
}

void store_override_free(struct store_override *o)
{
	if (!o)
		return;
	g_free(o->reason);
	g_free(o);
}

void store_checklist_answer_free(struct store_checklist_answer *a)
{
	if (!a)
		return;
	g_free(a->item);
	g_free(a);
}

void store_journal_entry_free(struct store_journal_entry *e)
{
	if (!e)
		return;
	g_free(e->note);
	g_free(e);
}

void store_session_free(struct store_session *ss)
{
	if (!ss)
		return;
	g_free(ss->roller_serial);
	g_free(ss->roller_name);
	g_free(ss->firmware);
	g_free(ss->head_serial);
	g_free(ss->plan_name);
	g_free(ss->plan_date);
	if (ss->zones)
		g_array_unref(ss->zones);
	g_free(ss);
}

/* ---- Rollers and heads ---- */

#define ROLLER_COLUMNS "id, serial, name, firmware, first_seen_ms," \
	" last_seen_ms, forgotten, address"

static const char sql_rollers[] =
	"SELECT " ROLLER_COLUMNS " FROM rollers WHERE ?1 OR forgotten = 0"
	" ORDER BY first_seen_ms, id";
static const char sql_roller_by_address[] =
	"SELECT " ROLLER_COLUMNS " FROM rollers WHERE address = ?1";

static struct store_roller *roller_row(sqlite3_stmt *st)
{
	struct store_roller *r = g_new0(struct store_roller, 1);

	r->id = sqlite3_column_int64(st, 0);
	r->serial = store_column_strdup(st, 1);
	r->name = store_column_strdup(st, 2);
	r->firmware = store_column_strdup(st, 3);
	r->first_seen_ms = sqlite3_column_int64(st, 4);
	r->last_seen_ms = sqlite3_column_int64(st, 5);
	r->forgotten = sqlite3_column_int(st, 6) != 0;
	r->address = store_column_strdup(st, 7);
	return r;
}

GPtrArray *store_rollers(struct store *s, bool include_forgotten,
				GError **error)
{
	const char *doing = "read the list of rollers";
	g_autoptr(GPtrArray) list = NULL;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, sql_rollers, doing, error);
	if (!st)
		return NULL;
	sqlite3_bind_int(st, 1, include_forgotten);
	list = g_ptr_array_new_with_free_func(
				(GDestroyNotify)store_roller_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(list, roller_row(st));
	if (!rows_done(s, st, rc, doing, error))
		return NULL;
	return g_steal_pointer(&list);
}

struct store_roller *store_roller_by_address(struct store *s,
				const char *address, GError **error)
{
	const char *doing = "look up the roller by its Bluetooth address";
	struct store_roller *r = NULL;
	char addr[18];
	sqlite3_stmt *st;
	int rc;

	if (!store_address_normalize(address, addr)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
			    "Could not %s: '%s' is not a Bluetooth address "
			    "(it looks like AA:BB:CC:DD:EE:FF).", doing,
			    address ? address : "");
		return NULL;
	}
	st = store_stmt(s, sql_roller_by_address, doing, error);
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = roller_row(st);
		rc = sqlite3_step(st);
	}
	if (!rows_done(s, st, rc, doing, error)) {
		store_roller_free(r);
		return NULL;
	}
	return r;
}

static const char sql_head_current[] =
	"SELECT h.id, h.roller_id, h.serial, h.needle_um, h.fitted_ms,"
	" h.uses_reported,"
	" (SELECT count(*) FROM sessions WHERE head_id = h.id)"
	" FROM heads h WHERE h.roller_id = ?1 AND h.replaced_ms IS NULL";

gboolean store_head_current(struct store *s, int64_t roller_id,
				struct store_head *h, GError **error)
{
	const char *doing = "read the roller's head";
	sqlite3_stmt *st;
	int rc;

	memset(h, 0, sizeof(*h));
	st = store_stmt(s, sql_head_current, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h->id = sqlite3_column_int64(st, 0);
		h->roller_id = sqlite3_column_int64(st, 1);
		h->serial = store_column_strdup(st, 2);
		h->needle_um = (uint16_t)sqlite3_column_int(st, 3);
		h->fitted_ms = sqlite3_column_int64(st, 4);
		h->uses_reported = (uint16_t)sqlite3_column_int(st, 5);
		h->sessions = (unsigned int)sqlite3_column_int64(st, 6);
		rc = SQLITE_DONE;
	}
	return rows_done(s, st, rc, doing, error);
}

/* ---- Sync state ---- */

static const char sql_sync_state[] =
	"SELECT acked_seq, device_clock_ms, device_clock_at_ms"
	" FROM sync_state WHERE roller_id = ?1";

gboolean store_sync_state(struct store *s, int64_t roller_id,
				struct store_sync_state *out, GError **error)
{
	const char *doing = "read the sync state";
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	st = store_stmt(s, sql_sync_state, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->acked_seq = (uint32_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			out->has_device_clock = true;
			out->device_clock_ms =
				(uint64_t)sqlite3_column_int64(st, 1);
			out->device_clock_at_ms = sqlite3_column_int64(st, 2);
		}
		rc = SQLITE_DONE;
	}
	return rows_done(s, st, rc, doing, error);
}

/* ---- Overrides, checklist, journal ---- */

static const char sql_overrides[] =
	"SELECT id, session_id, zone, kind, reason, at_ms FROM overrides"
	" WHERE session_id = ?1 ORDER BY at_ms, id";

GPtrArray *store_overrides(struct store *s, int64_t session_id,
				GError **error)
{
	const char *doing = "read the overrides";
	g_autoptr(GPtrArray) list = NULL;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, sql_overrides, doing, error);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, session_id);
	list = g_ptr_array_new_with_free_func(
				(GDestroyNotify)store_override_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_override *o = g_new0(struct store_override, 1);

		o->id = sqlite3_column_int64(st, 0);
		o->session_id = sqlite3_column_int64(st, 1);
		o->zone = (uint8_t)sqlite3_column_int(st, 2);
		o->kind = override_kind(sqlite3_column_text(st, 3));
		o->reason = store_column_strdup(st, 4);
		o->at_ms = sqlite3_column_int64(st, 5);
		g_ptr_array_add(list, o);
	}
	if (!rows_done(s, st, rc, doing, error))
		return NULL;
	return g_steal_pointer(&list);
}

static const char sql_checklist[] =
	"SELECT item, answer, at_ms FROM checklist_answers"
	" WHERE session_id = ?1 ORDER BY id";

GPtrArray *store_checklist(struct store *s, int64_t session_id,
				GError **error)
{
	const char *doing = "read the checklist answers";
	g_autoptr(GPtrArray) list = NULL;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, sql_checklist, doing, error);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, session_id);
	list = g_ptr_array_new_with_free_func(
			(GDestroyNotify)store_checklist_answer_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_checklist_answer *a =
			g_new0(struct store_checklist_answer, 1);

		a->item = store_column_strdup(st, 0);
		a->yes = sqlite3_column_int(st, 1) != 0;
		a->at_ms = sqlite3_column_int64(st, 2);
		g_ptr_array_add(list, a);
	}
	if (!rows_done(s, st, rc, doing, error))
		return NULL;
	return g_steal_pointer(&list);
}

static const char sql_journal[] =
	"SELECT id, at_ms, utc_offset_s, zone, redness, swelling, note"
	" FROM journal_entries"
	" WHERE (?1 IS NULL OR at_ms >= ?1) AND (?2 IS NULL OR at_ms < ?2)"
	" ORDER BY at_ms, id";

GPtrArray *store_journal(struct store *s, int64_t from_ms, int64_t to_ms,
				GError **error)
{
	const char *doing = "read the journal";
	g_autoptr(GPtrArray) list = NULL;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, sql_journal, doing, error);
	if (!st)
		return NULL;
	bind_bound(st, 1, from_ms);
	bind_bound(st, 2, to_ms);
	list = g_ptr_array_new_with_free_func(
			(GDestroyNotify)store_journal_entry_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_journal_entry *e =
			g_new0(struct store_journal_entry, 1);

		e->id = sqlite3_column_int64(st, 0);
		e->at_ms = sqlite3_column_int64(st, 1);
		e->utc_offset_s = sqlite3_column_int(st, 2);
		e->zone = (uint8_t)sqlite3_column_int(st, 3);
		e->redness = (uint8_t)sqlite3_column_int(st, 4);
		e->swelling = (uint8_t)sqlite3_column_int(st, 5);
		e->note = store_column_strdup(st, 6);
		g_ptr_array_add(list, e);
	}
	if (!rows_done(s, st, rc, doing, error))
		return NULL;
	return g_steal_pointer(&list);
}

/* ---- Sessions ---- */

static const char sql_zone_results[] =
	"SELECT zone, horizontal_passes, vertical_passes, diagonal_passes,"
	" mean_force_cn, peak_force_cn, over_warn_ms, started_ms, ended_ms"
	" FROM zone_results WHERE session_id = ?1 ORDER BY zone";

static GArray *zone_results(struct store *s, int64_t session_id,
				const char *doing, GError **error)
{
	g_autoptr(GArray) zones = NULL;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, sql_zone_results, doing, error);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, session_id);
	zones = g_array_new(FALSE, TRUE, sizeof(struct store_zone_result));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_zone_result z = { 0 };

		z.zone = (uint8_t)sqlite3_column_int(st, 0);
		z.passes[ZONE_DIR_HORIZONTAL] =
			(uint16_t)sqlite3_column_int(st, 1);
		z.passes[ZONE_DIR_VERTICAL] =
			(uint16_t)sqlite3_column_int(st, 2);
		z.passes[ZONE_DIR_DIAGONAL] =
			(uint16_t)sqlite3_column_int(st, 3);
		z.mean_force_cn = (uint16_t)sqlite3_column_int(st, 4);
		z.peak_force_cn = (uint16_t)sqlite3_column_int(st, 5);
		z.over_warn_ms = (uint32_t)sqlite3_column_int64(st, 6);
		z.started_ms = sqlite3_column_int64(st, 7);
		z.ended_ms = sqlite3_column_int64(st, 8);
		g_array_append_val(zones, z);
	}
	if (!rows_done(s, st, rc, doing, error))
		return NULL;
	return g_steal_pointer(&zones);
}

/* The head's use number counts its sessions up to this one, in time
 * order. */
static const char sql_history[] =
	"SELECT s.id, s.roller_id, r.serial, r.name, s.firmware, s.head_id,"
	" h.serial, h.needle_um,"
	" (SELECT count(*) FROM sessions u WHERE u.head_id = s.head_id"
	"  AND (u.started_ms, u.id) <= (s.started_ms, s.id)),"
	" s.device_session, s.started_ms, s.utc_offset_s, s.ended_ms, s.state,"
	" s.plan_name, s.plan_date"
	" FROM sessions s JOIN rollers r ON r.id = s.roller_id"
	" LEFT JOIN heads h ON h.id = s.head_id"
	" WHERE (?1 IS NULL OR s.started_ms >= ?1)"
	" AND (?2 IS NULL OR s.started_ms < ?2)"
	" AND (?3 IS NULL OR s.roller_id = ?3)"
	" AND (?4 IS NULL"
	"  OR EXISTS (SELECT 1 FROM zone_results z"
	"   WHERE z.session_id = s.id AND z.zone = ?4)"
	"  OR EXISTS (SELECT 1 FROM passes p"
	"   WHERE p.session_id = s.id AND p.zone = ?4))"
	" ORDER BY s.started_ms, s.id";

static GPtrArray *history_rows(struct store *s,
				const struct store_history_filter *filter,
				const char *doing, GError **error)
{
	g_autoptr(GPtrArray) list = NULL;
	sqlite3_stmt *st;
	guint i;
	int rc;

	st = store_stmt(s, sql_history, doing, error);
	if (!st)
		return NULL;
	bind_bound(st, 1, filter->from_ms);
	bind_bound(st, 2, filter->to_ms);
	bind_bound(st, 3, filter->roller_id);
	bind_bound(st, 4, filter->zone);
	list = g_ptr_array_new_with_free_func(
				(GDestroyNotify)store_session_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_session *ss = g_new0(struct store_session, 1);

		ss->id = sqlite3_column_int64(st, 0);
		ss->roller_id = sqlite3_column_int64(st, 1);
		ss->roller_serial = store_column_strdup(st, 2);
		ss->roller_name = store_column_strdup(st, 3);
		ss->firmware = store_column_strdup(st, 4);
		ss->head_id = sqlite3_column_int64(st, 5);
		ss->head_serial = store_column_strdup(st, 6);
		ss->needle_um = (uint16_t)sqlite3_column_int(st, 7);
		ss->head_use = (unsigned int)sqlite3_column_int64(st, 8);
		ss->device_session = (uint16_t)sqlite3_column_int(st, 9);
		ss->started_ms = sqlite3_column_int64(st, 10);
		ss->utc_offset_s = sqlite3_column_int(st, 11);
		ss->ended_ms = sqlite3_column_int64(st, 12);
		ss->state = session_state(sqlite3_column_text(st, 13));
		ss->plan_name = store_column_strdup(st, 14);
		ss->plan_date = store_column_strdup(st, 15);
		g_ptr_array_add(list, ss);
	}
	if (!rows_done(s, st, rc, doing, error))
		return NULL;

	for (i = 0; i < list->len; i++) {
		struct store_session *ss = list->pdata[i];

		ss->zones = zone_results(s, ss->id, doing, error);
		if (!ss->zones)
			return NULL;
	}
	return g_steal_pointer(&list);
}

GPtrArray *store_history(struct store *s,
				const struct store_history_filter *filter,
				GError **error)
{
	static const struct store_history_filter all = { 0 };
	const char *doing = "read the history";
	GPtrArray *list;

	if (!filter)
		filter = &all;
	if (filter->zone > DP_ZONE_MAX) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
			"Could not %s: the zone is not one of the ten zones.",
			doing);
		return NULL;
	}
	/* One read snapshot for the sessions and their zone results. */
	if (!store_begin_read(s, doing, error))
		return NULL;
	list = history_rows(s, filter, doing, error);
	store_end_read(s);
	return list;
}

/* ---- Passes ---- */

#define PASS_COLUMNS \
	"seq, session_id, device_session, zone, direction_class," \
	" device_direction, device_start_ms, started_ms, duration_ms," \
	" distance_mm, angle_deg, mean_force_cn, peak_force_cn," \
	" over_warn_ms, flags, source"

static const char sql_session_passes[] =
	"SELECT " PASS_COLUMNS " FROM passes WHERE session_id = ?1"
	" ORDER BY seq";
static const char sql_unassigned_passes[] =
	"SELECT " PASS_COLUMNS " FROM passes"
	" WHERE roller_id = ?1 AND session_id IS NULL ORDER BY seq";

static void read_pass(sqlite3_stmt *st, struct store_pass *p)
{
	memset(p, 0, sizeof(*p));
	p->dev.seq = (uint32_t)sqlite3_column_int64(st, 0);
	p->session_id = sqlite3_column_int64(st, 1);
	p->dev.session = (uint16_t)sqlite3_column_int(st, 2);
	p->dev.zone = (uint8_t)sqlite3_column_int(st, 3);
	p->dir_class = dir_class(sqlite3_column_text(st, 4));
	p->dev.direction = (uint8_t)sqlite3_column_int(st, 5);
	p->dev.start_ms = (uint64_t)sqlite3_column_int64(st, 6);
	p->started_ms = sqlite3_column_int64(st, 7);
	p->dev.duration_ms = (uint16_t)sqlite3_column_int(st, 8);
	p->dev.distance_mm = (uint16_t)sqlite3_column_int(st, 9);
	p->dev.angle_deg = (uint8_t)sqlite3_column_int(st, 10);
	p->dev.mean_force_cn = (uint16_t)sqlite3_column_int(st, 11);
	p->dev.peak_force_cn = (uint16_t)sqlite3_column_int(st, 12);
	p->dev.over_warn_ms = (uint16_t)sqlite3_column_int(st, 13);
	p->dev.flags = (uint8_t)sqlite3_column_int(st, 14);
	p->source = strcmp((const char *)sqlite3_column_text(st, 15),
				"offline") == 0 ?
			STORE_SOURCE_OFFLINE : STORE_SOURCE_LIVE;
}

static GArray *passes_where(struct store *s, const char *sql, int64_t key,
				GError **error)
{
	const char *doing = "read the passes";
	g_autoptr(GArray) passes = NULL;
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s, sql, doing, error);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, key);
	passes = g_array_new(FALSE, TRUE, sizeof(struct store_pass));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_pass p;

		read_pass(st, &p);
		g_array_append_val(passes, p);
	}
	if (!rows_done(s, st, rc, doing, error))
		return NULL;
	return g_steal_pointer(&passes);
}

GArray *store_session_passes(struct store *s, int64_t session_id,
				GError **error)
{
	return passes_where(s, sql_session_passes, session_id, error);
}

GArray *store_unassigned_passes(struct store *s, int64_t roller_id,
				GError **error)
{
	return passes_where(s, sql_unassigned_passes, roller_id, error);
}

/* ---- The safety policy's question ---- */

/* The latest end among the passes that start within PASS_MAX_MS of the
 * latest start: exact, and it stays on the (zone, started_ms) index. */
static const char sql_zone_last_pass[] =
	"SELECT p.started_ms + p.duration_ms AS end_ms, p.session_id,"
	" coalesce(s.started_ms, p.started_ms)"
	" FROM passes p LEFT JOIN sessions s ON s.id = p.session_id"
	" WHERE p.zone = ?1 AND p.started_ms < ?2 AND p.started_ms >="
	"  (SELECT max(started_ms) FROM passes"
	"   WHERE zone = ?1 AND started_ms < ?2) - ?3"
	" ORDER BY end_ms DESC, p.id DESC LIMIT 1";
/* A zone result with no pass (a zone skipped) did not treat the skin. */
static const char sql_zone_last_result[] =
	"SELECT z.ended_ms, z.session_id, s.started_ms"
	" FROM zone_results z JOIN sessions s ON s.id = z.session_id"
	" WHERE z.zone = ?1 AND z.started_ms < ?2"
	" AND z.horizontal_passes + z.vertical_passes + z.diagonal_passes > 0"
	" ORDER BY z.ended_ms DESC, z.session_id DESC LIMIT 1";

static gboolean latest(struct store *s, const char *sql, uint8_t zone,
			int64_t before_ms, struct store_zone_last *out,
			GError **error)
{
	const char *doing = "look up when the zone was last treated";
	sqlite3_stmt *st = store_stmt(s, sql, doing, error);
	int rc;

	if (!st)
		return FALSE;
	sqlite3_bind_int(st, 1, zone);
	sqlite3_bind_int64(st, 2, before_ms);
	if (sql == sql_zone_last_pass)
		sqlite3_bind_int(st, 3, PASS_MAX_MS);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);

		if (t > out->treated_ms) {
			out->treated_ms = t;
			out->session_id = sqlite3_column_int64(st, 1);
			out->session_started_ms = sqlite3_column_int64(st, 2);
		}
		rc = SQLITE_DONE;
	}
	return rows_done(s, st, rc, doing, error);
}

gboolean store_zone_last_treated(struct store *s, uint8_t zone,
				int64_t before_ms, struct store_zone_last *out,
				GError **error)
{
	memset(out, 0, sizeof(*out));
	if (zone < 1 || zone > DP_ZONE_MAX) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
			"Could not look up when the zone was last treated: "
			"the zone is not one of the ten zones.");
		return FALSE;
	}
	if (before_ms == 0)
		before_ms = INT64_MAX;
	return latest(s, sql_zone_last_pass, zone, before_ms, out, error) &&
		latest(s, sql_zone_last_result, zone, before_ms, out, error);
}
