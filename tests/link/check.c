/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check.h: the stored history, pass by pass, against the wire.
 */
#include <string.h>

#include <sqlite3.h>

#include "check.h"
#include "dp/proto.h"
#include "zones.h"

static const char sql_passes[] =
	"SELECT seq, device_start_ms, duration_ms, distance_mm, device_direction,"
	" angle_deg, mean_force_cn, peak_force_cn, over_warn_ms, device_session, zone,"
	" flags, direction_class, source, session_id IS NULL"
	" FROM passes ORDER BY seq, id";

static guint count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	guint n;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	n = (guint)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

void check_store(const char *path, const GArray *sent, struct check_result *out)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	guint i = 0;

	memset(out, 0, sizeof(*out));
	for (guint k = 0; k < sent->len; k++)
		g_assert_cmpuint(g_array_index(sent, struct dp_pass, k).seq, ==, k + 1);

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql_passes, -1, &st, NULL), ==, SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const struct dp_pass *p;
		const char *dir = (const char *)sqlite3_column_text(st, 12);
		const char *source = (const char *)sqlite3_column_text(st, 13);

		/* More rows than passes sent, or a seq twice, fails here. */
		g_assert_cmpuint(i, <, sent->len);
		p = &g_array_index(sent, struct dp_pass, i);
		g_assert_cmpint(sqlite3_column_int64(st, 0), ==, p->seq);
		g_assert_cmpint(sqlite3_column_int64(st, 1), ==, (gint64)p->start_ms);
		g_assert_cmpint(sqlite3_column_int(st, 2), ==, p->duration_ms);
		g_assert_cmpint(sqlite3_column_int(st, 3), ==, p->distance_mm);
		g_assert_cmpint(sqlite3_column_int(st, 4), ==, p->direction);
		g_assert_cmpint(sqlite3_column_int(st, 5), ==, p->angle_deg);
		g_assert_cmpint(sqlite3_column_int(st, 6), ==, p->mean_force_cn);
		g_assert_cmpint(sqlite3_column_int(st, 7), ==, p->peak_force_cn);
		g_assert_cmpint(sqlite3_column_int(st, 8), ==, p->over_warn_ms);
		g_assert_cmpint(sqlite3_column_int(st, 9), ==, p->session);
		g_assert_cmpint(sqlite3_column_int(st, 10), ==, p->zone);
		g_assert_cmpint(sqlite3_column_int(st, 11), ==, p->flags);
		g_assert_cmpstr(dir, ==, zone_dir_name(zone_classify_angle(p->angle_deg)));
		if (g_str_equal(source, "live"))
			out->live++;
		else
			out->offline++;
		/* Zone 0 is never placed in a session by sync. */
		if (p->zone == DP_ZONE_NONE)
			g_assert_cmpint(sqlite3_column_int(st, 14), ==, 1);
		out->unassigned += sqlite3_column_int(st, 14);
		i++;
	}
	sqlite3_finalize(st);
	g_assert_cmpuint(i, ==, sent->len);
	out->passes = i;
	g_assert_cmpuint(count(db, "SELECT COUNT(DISTINCT seq) FROM passes"), ==, i);
	out->sessions = count(db, "SELECT COUNT(*) FROM sessions");
	out->open_sessions = count(db, "SELECT COUNT(*) FROM sessions WHERE state = 'open'");
	sqlite3_close(db);
}
