/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing to the history: rollers, heads, sessions, zone results, passes,
 * the sync state, overrides, checklist answers, the journal and the clock
 * witness.  Every value reaches SQL through a bound parameter.
 */
#define G_LOG_DOMAIN "dermaroll-store"

#include <string.h>

#include <glib.h>

#include "store-private.h"

/* Longest text the user types that the history keeps (bytes of UTF-8). */
#define NAME_MAX_BYTES 64
#define TEXT_MAX_BYTES 4096

static const char *const session_states[] = {
	[STORE_SESSION_OPEN] = "open",
	[STORE_SESSION_COMPLETED] = "completed",
	[STORE_SESSION_ABORTED] = "aborted",
	[STORE_SESSION_INTERRUPTED] = "interrupted",
};

/* The words stored, fixed by the schema (not zone_dir_name(), which is
 * free to change). */
static const char *const dir_classes[] = {
	[ZONE_DIR_HORIZONTAL] = "horizontal",
	[ZONE_DIR_VERTICAL] = "vertical",
	[ZONE_DIR_DIAGONAL] = "diagonal",
};

static const char *const sources[] = {
	[STORE_SOURCE_LIVE] = "live",
	[STORE_SOURCE_OFFLINE] = "offline",
};

static const char *const override_kinds[] = {
	[STORE_OVERRIDE_INTERVAL] = "interval",
	[STORE_OVERRIDE_PASSES] = "passes",
	[STORE_OVERRIDE_HEAD_WEAR] = "head_wear",
	[STORE_OVERRIDE_CHECKLIST] = "checklist",
};

static int64_t now_ms(void)
{
	return g_get_real_time() / 1000;
}

static gboolean invalid(GError **error, const char *doing, const char *why)
{
	g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
			"Could not %s: %s.", doing, why);
	return FALSE;
}

/* UTF-8 text of at most @max bytes; @need_text: not only blanks. */
static gboolean text_ok(const char *t, size_t max, gboolean need_text)
{
	const char *p;

	if (!t || strlen(t) > max || !g_utf8_validate(t, -1, NULL))
		return FALSE;
	if (!need_text)
		return TRUE;
	for (p = t; *p; p = g_utf8_next_char(p))
		if (!g_unichar_isspace(g_utf8_get_char(p)))
			return TRUE;
	return FALSE;
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

static void bind_text(sqlite3_stmt *st, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Step an INSERT ... RETURNING id to its end.  *id is 0 if no row was
 * written (an INSERT ... SELECT that found nothing). */
static gboolean step_returning(struct store *s, sqlite3_stmt *st,
				int64_t *id, const char *doing, GError **error)
{
	int rc;

	*id = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return TRUE;
	store_set_error(s, rc, doing, error);
	return FALSE;
}

/* An UPDATE of one row by id: no row changed means no such id. */
static gboolean step_update(struct store *s, sqlite3_stmt *st,
				const char *doing, const char *missing,
				GError **error)
{
	if (!store_step_done(s, st, doing, error))
		return FALSE;
	if (sqlite3_changes(s->db) == 0)
		return invalid(error, doing, missing);
	return TRUE;
}

/* ---- Rollers and heads ---- */

static const char sql_roller_update[] =
	"INSERT INTO rollers (serial, name, firmware, first_seen_ms,"
	" last_seen_ms) VALUES (?1, ?1, ?2, ?3, ?3)"
	" ON CONFLICT (serial) DO UPDATE SET firmware = excluded.firmware,"
	" last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),"
	" forgotten = 0"
	" RETURNING id";

gboolean store_roller_update(struct store *s, const char *serial,
				const char *firmware, int64_t seen_ms,
				int64_t *roller_id, GError **error)
{
	const char *doing = "save the roller";
	sqlite3_stmt *st;
	int64_t id;

	if (!text_ok(serial, NAME_MAX_BYTES, TRUE))
		return invalid(error, doing, "its serial number is empty or "
				"not readable text");
	if (!text_ok(firmware, NAME_MAX_BYTES, FALSE))
		return invalid(error, doing, "its firmware version is not "
				"readable text");
	st = store_stmt(s, sql_roller_update, doing, error);
	if (!st)
		return FALSE;
	bind_text(st, 1, serial);
	bind_text(st, 2, firmware);
	sqlite3_bind_int64(st, 3, seen_ms);
	if (!step_returning(s, st, &id, doing, error))
		return FALSE;
	if (roller_id)
		*roller_id = id;
	return TRUE;
}

static const char sql_roller_rename[] =
	"UPDATE rollers SET name = ?2 WHERE id = ?1";

gboolean store_roller_rename(struct store *s, int64_t roller_id,
				const char *name, GError **error)
{
	const char *doing = "rename the roller";
	g_autofree char *trimmed = NULL;
	sqlite3_stmt *st;

	if (!text_ok(name, NAME_MAX_BYTES, TRUE))
		return invalid(error, doing, "a name needs 1 to 64 characters "
				"of readable text");
	trimmed = g_strstrip(g_strdup(name));
	st = store_stmt(s, sql_roller_rename, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	bind_text(st, 2, trimmed);
	return step_update(s, st, doing, "there is no such roller in the "
				"history", error);
}

static const char sql_roller_forget[] =
	"UPDATE rollers SET forgotten = 1 WHERE id = ?1";

gboolean store_roller_forget(struct store *s, int64_t roller_id,
				GError **error)
{
	const char *doing = "forget the roller";
	sqlite3_stmt *st = store_stmt(s, sql_roller_forget, doing, error);

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	return step_update(s, st, doing, "there is no such roller in the "
				"history", error);
}

gboolean store_address_normalize(const char *in, char out[18])
{
	if (!in || strlen(in) != 17)
		return FALSE;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? in[i] != ':' : !g_ascii_isxdigit(in[i]))
			return FALSE;
		out[i] = g_ascii_toupper(in[i]);
	}
	out[17] = '\0';
	return TRUE;
}

static const char sql_address_release[] =
	"UPDATE rollers SET address = NULL WHERE address = ?2 AND id != ?1";
static const char sql_address_set[] =
	"UPDATE rollers SET address = ?2 WHERE id = ?1";

gboolean store_roller_set_address(struct store *s, int64_t roller_id,
				const char *address, GError **error)
{
	const char *doing = "save the roller's Bluetooth address";
	char addr[18];
	sqlite3_stmt *st;

	if (address && !store_address_normalize(address, addr))
		return invalid(error, doing, "it is not a Bluetooth address "
				"(it looks like AA:BB:CC:DD:EE:FF)");
	if (!store_begin(s, doing, error))
		return FALSE;
	/* §9.5: one address, one roller; the one paired last has it. */
	if (address) {
		st = store_stmt(s, sql_address_release, doing, error);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, roller_id);
		bind_text(st, 2, addr);
		if (!store_step_done(s, st, doing, error))
			goto fail;
	}
	st = store_stmt(s, sql_address_set, doing, error);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, roller_id);
	bind_text(st, 2, address ? addr : NULL);
	if (!step_update(s, st, doing, "there is no such roller in the "
				"history", error))
		goto fail;
	return store_commit(s, doing, error);

fail:
	store_rollback(s);
	return FALSE;
}

static const char sql_head_fitted[] =
	"SELECT id, serial FROM heads WHERE roller_id = ?1"
	" AND replaced_ms IS NULL";
static const char sql_head_same[] =
	"UPDATE heads SET uses_reported = ?2, needle_um = ?3 WHERE id = ?1";
static const char sql_head_replace[] =
	"UPDATE heads SET replaced_ms = ?2 WHERE id = ?1";
static const char sql_head_insert[] =
	"INSERT INTO heads (roller_id, serial, needle_um, fitted_ms,"
	" uses_reported) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (roller_id, serial) DO UPDATE SET replaced_ms = NULL,"
	" needle_um = excluded.needle_um,"
	" uses_reported = excluded.uses_reported"
	" RETURNING id";

gboolean store_head_fit(struct store *s, int64_t roller_id, const char *serial,
			uint16_t needle_um, int64_t fitted_ms,
			uint16_t uses_reported, int64_t *head_id,
			GError **error)
{
	const char *doing = "save the roller's head";
	g_autofree char *fitted_serial = NULL;
	int64_t fitted_id = 0, id;
	sqlite3_stmt *st;
	int rc;

	if (!text_ok(serial, NAME_MAX_BYTES, TRUE))
		return invalid(error, doing, "its serial number is empty or "
				"not readable text");
	if (needle_um < 1 || needle_um > 3000)
		return invalid(error, doing, "its needle length is not "
				"between 1 and 3000 micrometres");
	if (!store_begin(s, doing, error))
		return FALSE;

	st = store_stmt(s, sql_head_fitted, doing, error);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, roller_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fitted_id = sqlite3_column_int64(st, 0);
		fitted_serial = store_column_strdup(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(s, rc, doing, error);
		goto fail;
	}

	if (fitted_id && g_strcmp0(fitted_serial, serial) == 0) {
		st = store_stmt(s, sql_head_same, doing, error);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, fitted_id);
		sqlite3_bind_int(st, 2, uses_reported);
		sqlite3_bind_int(st, 3, needle_um);
		if (!store_step_done(s, st, doing, error))
			goto fail;
		id = fitted_id;
	} else {
		if (fitted_id) {
			st = store_stmt(s, sql_head_replace, doing, error);
			if (!st)
				goto fail;
			sqlite3_bind_int64(st, 1, fitted_id);
			sqlite3_bind_int64(st, 2, fitted_ms);
			if (!store_step_done(s, st, doing, error))
				goto fail;
		}
		st = store_stmt(s, sql_head_insert, doing, error);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, roller_id);
		bind_text(st, 2, serial);
		sqlite3_bind_int(st, 3, needle_um);
		sqlite3_bind_int64(st, 4, fitted_ms);
		sqlite3_bind_int(st, 5, uses_reported);
		if (!step_returning(s, st, &id, doing, error))
			goto fail;
	}
	if (!store_commit(s, doing, error))
		return FALSE;
	if (head_id)
		*head_id = id;
	return TRUE;

fail:
	store_rollback(s);
	return FALSE;
}

/* ---- Sessions ---- */

static const char sql_session_begin[] =
	"INSERT INTO sessions (roller_id, head_id, device_session,"
	" started_ms, utc_offset_s, plan_name, plan_date, firmware)"
	" SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, firmware FROM rollers"
	" WHERE id = ?1 AND (?2 IS NULL OR EXISTS"
	"  (SELECT 1 FROM heads WHERE id = ?2 AND roller_id = ?1))"
	" RETURNING id";

gboolean store_session_begin(struct store *s,
				const struct store_session_start *start,
				int64_t *session_id, GError **error)
{
	const char *doing = "save the new session";
	sqlite3_stmt *st;
	int64_t id;

	if (start->utc_offset_s < -86400 || start->utc_offset_s > 86400)
		return invalid(error, doing, "its UTC offset is more than a "
				"day");
	if ((start->plan_name && !text_ok(start->plan_name, TEXT_MAX_BYTES,
						TRUE)) ||
	    (start->plan_date && !text_ok(start->plan_date, NAME_MAX_BYTES,
						TRUE)))
		return invalid(error, doing, "the plan's name or date is "
				"empty or not readable text");
	st = store_stmt(s, sql_session_begin, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, start->roller_id);
	bind_id(st, 2, start->head_id);
	sqlite3_bind_int(st, 3, start->device_session);
	sqlite3_bind_int64(st, 4, start->started_ms);
	sqlite3_bind_int(st, 5, start->utc_offset_s);
	bind_text(st, 6, start->plan_name);
	bind_text(st, 7, start->plan_date);
	if (!step_returning(s, st, &id, doing, error))
		return FALSE;
	if (id == 0)
		return invalid(error, doing, "its roller, or its head on that "
				"roller, is not in the history");
	if (session_id)
		*session_id = id;
	return TRUE;
}

static const char sql_session_end[] =
	"UPDATE sessions SET ended_ms = ?2, state = ?3 WHERE id = ?1";

gboolean store_session_end(struct store *s, int64_t session_id,
				int64_t ended_ms,
				enum store_session_state state,
				GError **error)
{
	const char *doing = "save the end of the session";
	sqlite3_stmt *st;

	if (state <= STORE_SESSION_OPEN || state > STORE_SESSION_INTERRUPTED)
		return invalid(error, doing, "a session must end completed, "
				"aborted or interrupted");
	st = store_stmt(s, sql_session_end, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, session_id);
	sqlite3_bind_int64(st, 2, ended_ms);
	bind_text(st, 3, session_states[state]);
	return step_update(s, st, doing, "there is no such session in the "
				"history", error);
}

static const char sql_session_find[] =
	"SELECT id FROM sessions WHERE roller_id = ?1 AND device_session = ?2"
	" ORDER BY started_ms DESC, id DESC LIMIT 1";

gboolean store_session_find(struct store *s, int64_t roller_id,
				uint16_t device_session, int64_t *session_id,
				GError **error)
{
	const char *doing = "look up the session";
	sqlite3_stmt *st;
	int rc;

	*session_id = 0;
	if (device_session == 0)
		return TRUE;
	st = store_stmt(s, sql_session_find, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	sqlite3_bind_int(st, 2, device_session);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*session_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return TRUE;
	store_set_error(s, rc, doing, error);
	return FALSE;
}

static const char sql_zone_result[] =
	"INSERT INTO zone_results (session_id, zone, horizontal_passes,"
	" vertical_passes, diagonal_passes, mean_force_cn, peak_force_cn,"
	" over_warn_ms, started_ms, ended_ms)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	" ON CONFLICT (session_id, zone) DO UPDATE SET"
	" horizontal_passes = excluded.horizontal_passes,"
	" vertical_passes = excluded.vertical_passes,"
	" diagonal_passes = excluded.diagonal_passes,"
	" mean_force_cn = excluded.mean_force_cn,"
	" peak_force_cn = excluded.peak_force_cn,"
	" over_warn_ms = excluded.over_warn_ms,"
	" started_ms = excluded.started_ms, ended_ms = excluded.ended_ms";

gboolean store_zone_result_record(struct store *s, int64_t session_id,
				const struct store_zone_result *r,
				GError **error)
{
	const char *doing = "save the zone's results";
	sqlite3_stmt *st;

	if (r->zone < 1 || r->zone > DP_ZONE_MAX)
		return invalid(error, doing, "the zone is not one of the ten "
				"zones");
	st = store_stmt(s, sql_zone_result, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, session_id);
	sqlite3_bind_int(st, 2, r->zone);
	sqlite3_bind_int(st, 3, r->passes[ZONE_DIR_HORIZONTAL]);
	sqlite3_bind_int(st, 4, r->passes[ZONE_DIR_VERTICAL]);
	sqlite3_bind_int(st, 5, r->passes[ZONE_DIR_DIAGONAL]);
	sqlite3_bind_int(st, 6, r->mean_force_cn);
	sqlite3_bind_int(st, 7, r->peak_force_cn);
	sqlite3_bind_int64(st, 8, r->over_warn_ms);
	sqlite3_bind_int64(st, 9, r->started_ms);
	sqlite3_bind_int64(st, 10, r->ended_ms);
	return store_step_done(s, st, doing, error);
}

/* ---- Passes and the sync state ---- */

static const char sql_pass_insert[] =
	"INSERT INTO passes (roller_id, seq, session_id, device_session, zone,"
	" direction_class, device_direction, device_start_ms, started_ms,"
	" duration_ms, distance_mm, angle_deg, mean_force_cn, peak_force_cn,"
	" over_warn_ms, flags, source, stored_ms)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" ?15, ?16, ?17, ?18)"
	" ON CONFLICT (roller_id, seq) DO NOTHING";

static const char sql_acked_raise[] =
	"INSERT INTO sync_state (roller_id, acked_seq) VALUES (?1, ?2)"
	" ON CONFLICT (roller_id) DO UPDATE"
	" SET acked_seq = max(acked_seq, excluded.acked_seq)";

static const char *pass_problem(const struct store_pass *p)
{
	if (p->dev.seq == 0)
		return "a pass has sequence number 0";
	if (p->dev.zone > DP_ZONE_MAX)
		return "a pass names an unknown zone";
	if (p->dev.direction != DP_DIR_FORWARD &&
	    p->dev.direction != DP_DIR_BACKWARD)
		return "a pass has an unknown rolling direction";
	if (p->dev.angle_deg > 179)
		return "a pass has an angle over 179 degrees";
	if ((unsigned int)p->dir_class >= ZONE_DIR_COUNT)
		return "a pass has an unknown direction class";
	if ((unsigned int)p->source > STORE_SOURCE_OFFLINE)
		return "a pass has an unknown source";
	if (p->dev.start_ms > INT64_MAX)
		return "a pass has a start time out of range";
	if (p->session_id < 0)
		return "a pass names an unknown session";
	return NULL;
}

static gboolean raise_acked(struct store *s, int64_t roller_id, uint32_t seq,
				const char *doing, GError **error)
{
	sqlite3_stmt *st = store_stmt(s, sql_acked_raise, doing, error);

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	sqlite3_bind_int64(st, 2, seq);
	return store_step_done(s, st, doing, error);
}

gboolean store_add_passes(struct store *s, int64_t roller_id,
				const struct store_pass *passes, size_t n,
				uint32_t ack_up_to, unsigned int *n_new,
				unsigned int *n_duplicate, GError **error)
{
	const char *doing = "save the passes";
	unsigned int added = 0, dup = 0;
	int64_t stored = now_ms();
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *why = pass_problem(&passes[i]);

		if (why)
			return invalid(error, doing, why);
	}
	if (!store_begin(s, doing, error))
		return FALSE;
	for (i = 0; i < n; i++) {
		const struct store_pass *p = &passes[i];

		st = store_stmt(s, sql_pass_insert, doing, error);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, roller_id);
		sqlite3_bind_int64(st, 2, p->dev.seq);
		bind_id(st, 3, p->session_id);
		sqlite3_bind_int(st, 4, p->dev.session);
		sqlite3_bind_int(st, 5, p->dev.zone);
		bind_text(st, 6, dir_classes[p->dir_class]);
		sqlite3_bind_int(st, 7, p->dev.direction);
		sqlite3_bind_int64(st, 8, (int64_t)p->dev.start_ms);
		sqlite3_bind_int64(st, 9, p->started_ms);
		sqlite3_bind_int(st, 10, p->dev.duration_ms);
		sqlite3_bind_int(st, 11, p->dev.distance_mm);
		sqlite3_bind_int(st, 12, p->dev.angle_deg);
		sqlite3_bind_int(st, 13, p->dev.mean_force_cn);
		sqlite3_bind_int(st, 14, p->dev.peak_force_cn);
		sqlite3_bind_int(st, 15, p->dev.over_warn_ms);
		sqlite3_bind_int(st, 16, p->dev.flags);
		bind_text(st, 17, sources[p->source]);
		sqlite3_bind_int64(st, 18, stored);
		if (!store_step_done(s, st, doing, error))
			goto fail;
		if (sqlite3_changes(s->db) > 0)
			added++;
		else
			dup++;
	}
	if (ack_up_to && !raise_acked(s, roller_id, ack_up_to, doing, error))
		goto fail;
	/* synchronous=FULL: the -wal is fsynced before COMMIT returns. */
	if (!store_commit(s, doing, error))
		return FALSE;
	if (n_new)
		*n_new = added;
	if (n_duplicate)
		*n_duplicate = dup;
	return TRUE;

fail:
	store_rollback(s);
	return FALSE;
}

static const char sql_pass_assign[] =
	"UPDATE passes SET session_id = ?3, zone = ?4"
	" WHERE roller_id = ?1 AND seq = ?2";

gboolean store_pass_assign(struct store *s, int64_t roller_id, uint32_t seq,
				int64_t session_id, uint8_t zone,
				GError **error)
{
	const char *doing = "place the pass";
	sqlite3_stmt *st;

	if (zone > DP_ZONE_MAX)
		return invalid(error, doing, "the zone is not one of the ten "
				"zones");
	st = store_stmt(s, sql_pass_assign, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	sqlite3_bind_int64(st, 2, seq);
	bind_id(st, 3, session_id);
	sqlite3_bind_int(st, 4, zone);
	return step_update(s, st, doing, "there is no such pass in the "
				"history", error);
}

gboolean store_acked_seq_set(struct store *s, int64_t roller_id,
				uint32_t seq, GError **error)
{
	return raise_acked(s, roller_id, seq, "save the sync state", error);
}

static const char sql_device_clock[] =
	"INSERT INTO sync_state (roller_id, device_clock_ms,"
	" device_clock_at_ms) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (roller_id) DO UPDATE SET"
	" device_clock_ms = excluded.device_clock_ms,"
	" device_clock_at_ms = excluded.device_clock_at_ms";

gboolean store_device_clock_set(struct store *s, int64_t roller_id,
				uint64_t device_clock_ms, int64_t at_ms,
				GError **error)
{
	const char *doing = "save the roller's clock";
	sqlite3_stmt *st;

	if (device_clock_ms > INT64_MAX)
		return invalid(error, doing, "the clock value is out of range");
	st = store_stmt(s, sql_device_clock, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, roller_id);
	sqlite3_bind_int64(st, 2, (int64_t)device_clock_ms);
	sqlite3_bind_int64(st, 3, at_ms);
	return store_step_done(s, st, doing, error);
}

/* ---- Overrides, checklist, journal ---- */

static const char sql_override_add[] =
	"INSERT INTO overrides (session_id, zone, kind, reason, at_ms)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";

gboolean store_override_add(struct store *s, int64_t session_id, uint8_t zone,
				enum store_override_kind kind,
				const char *reason, int64_t at_ms,
				GError **error)
{
	const char *doing = "save the override";
	sqlite3_stmt *st;

	if ((unsigned int)kind > STORE_OVERRIDE_CHECKLIST)
		return invalid(error, doing, "it names an unknown lock");
	if (zone > DP_ZONE_MAX)
		return invalid(error, doing, "the zone is not one of the ten "
				"zones");
	if (!text_ok(reason, TEXT_MAX_BYTES, TRUE))
		return invalid(error, doing, "an override needs a reason, "
				"typed in full (at most 4096 bytes of text)");
	st = store_stmt(s, sql_override_add, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, session_id);
	bind_id(st, 2, zone);
	bind_text(st, 3, override_kinds[kind]);
	bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, at_ms);
	return store_step_done(s, st, doing, error);
}

static const char sql_checklist_set[] =
	"INSERT INTO checklist_answers (session_id, item, answer, at_ms)"
	" VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (session_id, item) DO UPDATE SET"
	" answer = excluded.answer, at_ms = excluded.at_ms";

gboolean store_checklist_set(struct store *s, int64_t session_id,
				const char *item, bool yes, int64_t at_ms,
				GError **error)
{
	const char *doing = "save the checklist answer";
	sqlite3_stmt *st;

	if (!text_ok(item, NAME_MAX_BYTES, TRUE))
		return invalid(error, doing, "the checklist item has no name");
	st = store_stmt(s, sql_checklist_set, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, session_id);
	bind_text(st, 2, item);
	sqlite3_bind_int(st, 3, yes ? 1 : 0);
	sqlite3_bind_int64(st, 4, at_ms);
	return store_step_done(s, st, doing, error);
}

static const char sql_journal_add[] =
	"INSERT INTO journal_entries (at_ms, utc_offset_s, zone, redness,"
	" swelling, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	" RETURNING id";

gboolean store_journal_add(struct store *s,
				const struct store_journal_entry *e,
				int64_t *id, GError **error)
{
	const char *doing = "save the journal entry";
	sqlite3_stmt *st;
	int64_t new_id;

	if (e->zone > DP_ZONE_MAX)
		return invalid(error, doing, "the zone is not one of the ten "
				"zones");
	if (e->redness > 3 || e->swelling > 3)
		return invalid(error, doing, "redness and swelling go from 0 "
				"to 3");
	if (e->utc_offset_s < -86400 || e->utc_offset_s > 86400)
		return invalid(error, doing, "its UTC offset is more than a "
				"day");
	if (!text_ok(e->note ? e->note : "", TEXT_MAX_BYTES, FALSE))
		return invalid(error, doing, "the note is longer than 4096 "
				"bytes or not readable text");
	st = store_stmt(s, sql_journal_add, doing, error);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, e->at_ms);
	sqlite3_bind_int(st, 2, e->utc_offset_s);
	bind_id(st, 3, e->zone);
	sqlite3_bind_int(st, 4, e->redness);
	sqlite3_bind_int(st, 5, e->swelling);
	bind_text(st, 6, e->note ? e->note : "");
	if (!step_returning(s, st, &new_id, doing, error))
		return FALSE;
	if (id)
		*id = new_id;
	return TRUE;
}

/* ---- The clock witness ---- */

static const char sql_time_seen[] =
	"SELECT latest_seen_ms FROM clock_witness WHERE id = 1";
static const char sql_time_raise[] =
	"INSERT INTO clock_witness (id, latest_seen_ms) VALUES (1, ?1)"
	" ON CONFLICT (id) DO UPDATE"
	" SET latest_seen_ms = excluded.latest_seen_ms"
	" WHERE excluded.latest_seen_ms > latest_seen_ms";

gboolean store_time_seen(struct store *s, int64_t *latest_ms, GError **error)
{
	const char *doing = "read the latest time seen";
	sqlite3_stmt *st = store_stmt(s, sql_time_seen, doing, error);
	int rc;

	if (!st)
		return FALSE;
	*latest_ms = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*latest_ms = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return TRUE;
	store_set_error(s, rc, doing, error);
	return FALSE;
}

gboolean store_time_seen_bump(struct store *s, int64_t now,
				int64_t *latest_ms, GError **error)
{
	const char *doing = "save the latest time seen";
	sqlite3_stmt *st;
	int64_t latest;

	if (!store_time_seen(s, &latest, error))
		return FALSE;
	/* Only a later time is written: the usual call costs no fsync. */
	if (now > latest) {
		st = store_stmt(s, sql_time_raise, doing, error);
		if (!st)
			return FALSE;
		sqlite3_bind_int64(st, 1, now);
		if (!store_step_done(s, st, doing, error) ||
		    !store_time_seen(s, &latest, error))
			return FALSE;
	}
	if (latest_ms)
		*latest_ms = latest;
	return TRUE;
}
