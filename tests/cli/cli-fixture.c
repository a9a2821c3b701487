/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes a known history for the cli suite, through the store's own API:
 * three rollers (one forgotten, one without a head), two sessions with
 * zone results, an override and a plan, one unassigned pass, a journal
 * entry, and the latest time seen.  test-cli.py checks dermaroll's output
 * against these figures.  Usage: cli-fixture PATH
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "store.h"

/* 2026-11-09T09:00:00Z and friends, as Unix ms. */
static int64_t utc(const char *iso)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);

	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt) * 1000;
}

static int64_t session(struct store *s, int64_t roller, int64_t head,
		       uint16_t number, const char *start, const char *plan,
		       const char *plan_date)
{
	struct store_session_start st = {
		.roller_id = roller,
		.head_id = head,
		.device_session = number,
		.started_ms = utc(start),
		.utc_offset_s = 3600,
		.plan_name = plan,
		.plan_date = plan_date,
	};
	g_autoptr(GError) error = NULL;
	int64_t id = 0;

	if (!store_session_begin(s, &st, &id, &error))
		g_error("%s", error->message);
	return id;
}

static void zone(struct store *s, int64_t session_id, uint8_t zone_id,
		 uint16_t h, uint16_t v, uint16_t d, uint16_t mean,
		 uint16_t peak, uint32_t over, const char *from,
		 const char *to)
{
	struct store_zone_result r = {
		.zone = zone_id,
		.passes = { h, v, d },
		.mean_force_cn = mean,
		.peak_force_cn = peak,
		.over_warn_ms = over,
		.started_ms = utc(from),
		.ended_ms = utc(to),
	};
	g_autoptr(GError) error = NULL;

	if (!store_zone_result_record(s, session_id, &r, &error))
		g_error("%s", error->message);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	struct store *s;
	int64_t a, b, c, head, s1, s2;
	struct store_pass pass = {
		.dev = {
			.seq = 7, .start_ms = 1000, .duration_ms = 1200,
			.distance_mm = 40, .direction = 1, .angle_deg = 90,
			.mean_force_cn = 180, .peak_force_cn = 260,
		},
		.dir_class = ZONE_DIR_HORIZONTAL,
		.source = STORE_SOURCE_OFFLINE,
	};
	struct store_journal_entry entry = {
		.utc_offset_s = 3600,
		.zone = DP_ZONE_FOREHEAD,
		.redness = 1,
		.swelling = 0,
		.note = (char *)"slight redness, gone by noon",
	};

	if (argc != 2) {
		fprintf(stderr, "usage: cli-fixture PATH\n");
		return 2;
	}
	s = store_open(argv[1], STORE_OPEN_CREATE, &error);
	if (!s)
		g_error("%s", error->message);

	if (!store_roller_update(s, "DR-SIM-0001", "1.0.0", utc("2026-11-09T09:00:00Z"), &a, &error) ||
	    !store_roller_rename(s, a, "Bathroom roller", &error) ||
	    !store_head_fit(s, a, "H-0042", 500, utc("2026-11-09T09:00:00Z"), 2, &head, &error) ||
	    !store_roller_update(s, "DR-SIM-0002", "1.0.0", utc("2026-12-01T10:00:00Z"), &b, &error) ||
	    !store_roller_update(s, "DR-SIM-0003", "0.9.0", utc("2026-10-01T10:00:00Z"), &c, &error) ||
	    !store_roller_forget(s, c, &error))
		g_error("%s", error->message);

	s1 = session(s, a, head, 1, "2026-11-23T18:05:00Z", NULL, NULL);
	zone(s, s1, DP_ZONE_FOREHEAD, 4, 4, 4, 250, 410, 0,
	     "2026-11-23T18:06:00Z", "2026-11-23T18:10:00Z");
	zone(s, s1, DP_ZONE_LEFT_CHEEK, 4, 5, 4, 220, 540, 1200,
	     "2026-11-23T18:11:00Z", "2026-11-23T18:15:00Z");
	if (!store_session_end(s, s1, utc("2026-11-23T18:20:00Z"), STORE_SESSION_COMPLETED, &error))
		g_error("%s", error->message);

	s2 = session(s, a, head, 2, "2026-12-10T18:00:00Z", "Dr. A. Example", "2026-11-20");
	zone(s, s2, DP_ZONE_SCALP, 4, 4, 4, 300, 450, 0,
	     "2026-12-10T18:01:00Z", "2026-12-10T18:10:00Z");
	if (!store_override_add(s, s2, DP_ZONE_SCALP, STORE_OVERRIDE_PASSES,
				"my dermatologist asked for five passes here",
				utc("2026-12-10T18:05:00Z"), &error) ||
	    !store_session_end(s, s2, utc("2026-12-10T18:15:00Z"), STORE_SESSION_COMPLETED, &error))
		g_error("%s", error->message);

	pass.started_ms = utc("2026-12-11T07:30:00Z");
	if (!store_add_passes(s, a, &pass, 1, 0, NULL, NULL, &error))
		g_error("%s", error->message);

	entry.at_ms = utc("2026-11-24T07:00:00Z");
	if (!store_journal_add(s, &entry, NULL, &error) ||
	    !store_time_seen_bump(s, utc("2026-12-10T18:30:00Z"), NULL, &error))
		g_error("%s", error->message);

	store_close(s);
	return 0;
}
