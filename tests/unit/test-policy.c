/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The safety policy against every row of SAFETY.md, boundaries included,
 * with the shipped table (DERMAROLL_DATA_DIR points at the source tree's
 * data/), plus malformed tables and plan files under /robustness/.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "plan.h"
#include "policy.h"
#include "policy-config.h"

#define MINUTE 60
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

/* 2025-11-23T20:00:00Z: the last session in most cases. */
#define BASE G_GINT64_CONSTANT(1763928000)

static struct policy *policy;
static char *tmpdir;

/* The shipped checklist, in table order. */
static const char *const checklist_ids[] = {
	"skin", "sunburn", "flare", "scars", "isotretinoin", "bleeding",
	"pregnancy", "sanitised",
};

/* Every item answered the way that lets a session go ahead. */
static void checklist_clear(struct policy_checklist *cl)
{
	memset(cl, 0, sizeof(*cl));
	for (unsigned int i = 0; i < policy_checklist_count(policy); i++)
		cl->answer[i] = policy_checklist_item(policy, i)->refuse_if_yes ?
				POLICY_ANSWER_NO : POLICY_ANSWER_YES;
}

static struct policy_checklist clear_checklist;

/* A forehead query with a 0.5 mm head, 1 use, fitted a day ago, never
 * treated, checklist clear, at BASE. */
static void query_init(struct policy_query *q)
{
	memset(q, 0, sizeof(*q));
	q->zone = DP_ZONE_FOREHEAD;
	q->needle_um = 500;
	q->head_uses = 1;
	q->head_fitted = BASE - DAY;
	q->last_session = POLICY_TIME_NONE;
	q->now = BASE;
	q->latest_seen = POLICY_TIME_NONE;
	q->checklist = &clear_checklist;
}

static char *write_tmp(const char *name, const char *text, gssize len)
{
	char *path = g_build_filename(tmpdir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, text, len, &error));
	g_assert_no_error(error);
	return path;
}

static char *read_shipped_table(void)
{
	g_autofree char *path = policy_default_path();
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	return text;
}

/* ---- The table itself ---- */

static void test_table_loads(void)
{
	struct policy_passes ps;
	struct policy_pressure_bands b;
	static const struct {
		const char *id;
		unsigned int hours;
	} aftercare[] = {
		{ "actives", 72 }, { "sun", 0 }, { "makeup", 24 },
		{ "healing", 0 },
	};

	g_assert_cmpuint(policy_table_version(policy), ==, 1);
	g_assert_cmpstr(policy_table_date(policy), ==, "2025-11-25");
	g_assert_cmpuint(policy_refuse_from_um(policy), ==, 1500);
	g_assert_true(g_str_has_suffix(policy_path(policy),
				       "/data/safety-limits.conf"));

	policy_get_passes(policy, DP_ZONE_FOREHEAD, &ps);
	g_assert_cmpuint(ps.target_per_direction, ==, 4);
	g_assert_cmpuint(ps.max_per_direction, ==, 5);
	g_assert_cmpuint(ps.max_per_zone, ==, 15);

	policy_get_pressure_bands(policy, &b);
	g_assert_cmpuint(b.too_light_below_cn, ==, 100);
	g_assert_cmpuint(b.target_max_cn, ==, 400);
	g_assert_cmpuint(b.warn_above_cn, ==, 500);

	g_assert_cmpuint(policy_checklist_count(policy), ==,
			 G_N_ELEMENTS(checklist_ids));
	for (unsigned int i = 0; i < G_N_ELEMENTS(checklist_ids); i++) {
		g_assert_cmpstr(policy_checklist_item(policy, i)->id, ==,
				checklist_ids[i]);
		g_assert_cmpint(policy_checklist_find(policy, checklist_ids[i]),
				==, (int)i);
	}
	g_assert_null(policy_checklist_item(policy, 8));
	g_assert_cmpint(policy_checklist_find(policy, "tattoo"), ==, -1);
	g_assert_true(g_str_has_prefix(policy_checklist_information(policy),
				       "Risk factors for lasting harm"));
	g_assert_cmpstr(policy_checklist_item(policy, 1)->question, ==,
			"Is the area sunburnt?");
	g_assert_cmpint(policy_checklist_item(policy, 1)->scope, ==,
			POLICY_SCOPE_ZONE);
	g_assert_cmpint(policy_checklist_item(policy, 3)->scope, ==,
			POLICY_SCOPE_ALL);
	g_assert_false(policy_checklist_item(policy, 7)->refuse_if_yes);

	g_assert_cmpuint(policy_aftercare_count(policy), ==,
			 G_N_ELEMENTS(aftercare));
	for (unsigned int i = 0; i < G_N_ELEMENTS(aftercare); i++) {
		g_assert_cmpstr(policy_aftercare_item(policy, i)->id, ==,
				aftercare[i].id);
		g_assert_cmpuint(policy_aftercare_item(policy, i)->hours, ==,
				 aftercare[i].hours);
	}
	g_assert_cmpstr(policy_aftercare_item(policy, 0)->text, ==,
			"No retinoids, acids or vitamin C for 72 hours.");
	g_assert_null(policy_aftercare_item(policy, 4));
}

static void test_default_path(void)
{
	g_autofree char *saved = g_strdup(g_getenv(POLICY_DATA_DIR_ENV));
	g_autofree char *p1 = NULL;
	g_autofree char *p2 = NULL;
	g_autofree char *p3 = NULL;
	const char *expected;

	g_assert_nonnull(saved);

	g_setenv(POLICY_DATA_DIR_ENV, "/opt/x", TRUE);
	p1 = policy_default_path();
	g_assert_cmpstr(p1, ==, "/opt/x/safety-limits.conf");

	/* Unset or empty: the installed table, or the source tree's when
	 * this build was never installed. */
	expected = g_file_test(DERMAROLL_DATADIR "/safety-limits.conf", G_FILE_TEST_EXISTS) ?
		DERMAROLL_DATADIR "/safety-limits.conf" :
		DERMAROLL_SOURCE_DATADIR "/safety-limits.conf";
	g_assert_true(g_file_test(expected, G_FILE_TEST_EXISTS));

	g_setenv(POLICY_DATA_DIR_ENV, "", TRUE);
	p2 = policy_default_path();
	g_assert_cmpstr(p2, ==, expected);

	g_unsetenv(POLICY_DATA_DIR_ENV);
	p3 = policy_default_path();
	g_assert_cmpstr(p3, ==, expected);

	g_setenv(POLICY_DATA_DIR_ENV, saved, TRUE);
}

/* ---- SAFETY.md "Needle length and the minimum interval" ---- */

struct interval_case {
	const char *name;
	int zone;
	unsigned int needle_um;
	gint64 since;		/* now - last session; G_MININT64: never */
	bool allowed;
	guint32 locks;
	enum policy_interval_source source;
	gint64 interval_s;
	unsigned int row_um;
};

#define L(r) POLICY_LOCK(POLICY_REASON_##r)
#define NEVER G_MININT64

static const struct interval_case interval_cases[] = {
	/* up to 0.30 mm: 72 h */
	{ "0.30 71h59m", 1, 300, 71 * HOUR + 59 * MINUTE, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 72 * HOUR, 300 },
	{ "0.30 72h-1s", 1, 300, 72 * HOUR - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 72 * HOUR, 300 },
	{ "0.30 72h", 1, 300, 72 * HOUR, true, 0, POLICY_INTERVAL_ROW,
	  72 * HOUR, 300 },
	{ "0.25 72h-1s", 1, 250, 72 * HOUR - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 72 * HOUR, 300 },
	{ "0.25 72h", 1, 250, 72 * HOUR, true, 0, POLICY_INTERVAL_ROW,
	  72 * HOUR, 300 },
	{ "0.001 72h", 1, 1, 72 * HOUR, true, 0, POLICY_INTERVAL_ROW,
	  72 * HOUR, 300 },
	/* between 0.30 and 0.50: the stricter 0.50 row */
	{ "0.301 72h", 1, 301, 72 * HOUR, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 21 * DAY, 500 },
	{ "0.301 21d", 1, 301, 21 * DAY, true, 0, POLICY_INTERVAL_ROW,
	  21 * DAY, 500 },
	/* 0.50 mm: 21 days */
	{ "0.50 20d23h", 1, 500, 20 * DAY + 23 * HOUR, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 21 * DAY, 500 },
	{ "0.50 21d-1s", 1, 500, 21 * DAY - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 21 * DAY, 500 },
	{ "0.50 21d", 1, 500, 21 * DAY, true, 0, POLICY_INTERVAL_ROW,
	  21 * DAY, 500 },
	{ "0.50 never", 1, 500, NEVER, true, 0, POLICY_INTERVAL_ROW,
	  21 * DAY, 500 },
	{ "0.50 same second", 1, 500, 0, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 21 * DAY, 500 },
	/* a 0.6 mm head takes the 0.75 mm row */
	{ "0.60 21d", 2, 600, 21 * DAY, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 28 * DAY, 750 },
	{ "0.60 28d-1s", 2, 600, 28 * DAY - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 28 * DAY, 750 },
	{ "0.60 28d", 2, 600, 28 * DAY, true, 0, POLICY_INTERVAL_ROW,
	  28 * DAY, 750 },
	{ "0.501 28d", 2, 501, 28 * DAY, true, 0, POLICY_INTERVAL_ROW,
	  28 * DAY, 750 },
	/* 0.75 mm: 28 days */
	{ "0.75 27d23h", 3, 750, 27 * DAY + 23 * HOUR, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 28 * DAY, 750 },
	{ "0.75 28d", 3, 750, 28 * DAY, true, 0, POLICY_INTERVAL_ROW,
	  28 * DAY, 750 },
	/* 1.00 mm: 42 days */
	{ "0.751 42d-1s", 4, 751, 42 * DAY - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 42 * DAY, 1000 },
	{ "1.00 41d23h", 4, 1000, 41 * DAY + 23 * HOUR, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 42 * DAY, 1000 },
	{ "1.00 42d", 4, 1000, 42 * DAY, true, 0, POLICY_INTERVAL_ROW,
	  42 * DAY, 1000 },
	/* between 1.00 and 1.50: the stricter, clinic-only row */
	{ "1.001 1000d", 5, 1001, 1000 * DAY, false, L(NEEDLE_NOT_FOR_HOME),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "1.20 never", 5, 1200, NEVER, false, L(NEEDLE_NOT_FOR_HOME),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "1.499 never", 5, 1499, NEVER, false, L(NEEDLE_NOT_FOR_HOME),
	  POLICY_INTERVAL_NONE, 0, 0 },
	/* 1.50 mm and longer: refused, clinic only */
	{ "1.50 never", 1, 1500, NEVER, false, L(NEEDLE_CLINIC_ONLY),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "1.50 1000d", 1, 1500, 1000 * DAY, false, L(NEEDLE_CLINIC_ONLY),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "2.00 never", 7, 2000, NEVER, false, L(NEEDLE_CLINIC_ONLY),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "3.00 never", 9, 3000, NEVER, false, L(NEEDLE_CLINIC_ONLY),
	  POLICY_INTERVAL_NONE, 0, 0 },
	/* body zones follow the rows */
	{ "hands 0.50 21d-1s", 9, 500, 21 * DAY - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 21 * DAY, 500 },
	{ "decolletage 1.00 42d", 8, 1000, 42 * DAY, true, 0,
	  POLICY_INTERVAL_ROW, 42 * DAY, 1000 },
	{ "neck 0.75 28d-1s", 7, 750, 28 * DAY - 1, false, L(INTERVAL),
	  POLICY_INTERVAL_ROW, 28 * DAY, 750 },
	/* scalp: 0.5 mm at most, every 7 days */
	{ "scalp 0.50 6d23h", 10, 500, 6 * DAY + 23 * HOUR, false,
	  L(INTERVAL), POLICY_INTERVAL_CLASS, 7 * DAY, 0 },
	{ "scalp 0.50 7d", 10, 500, 7 * DAY, true, 0, POLICY_INTERVAL_CLASS,
	  7 * DAY, 0 },
	{ "scalp 0.30 72h", 10, 300, 72 * HOUR, false, L(INTERVAL),
	  POLICY_INTERVAL_CLASS, 7 * DAY, 0 },
	{ "scalp 0.30 7d", 10, 300, 7 * DAY, true, 0, POLICY_INTERVAL_CLASS,
	  7 * DAY, 0 },
	{ "scalp 0.501 never", 10, 501, NEVER, false, L(NEEDLE_ZONE_CLASS),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "scalp 0.75 never", 10, 750, NEVER, false, L(NEEDLE_ZONE_CLASS),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "scalp 0.75 100d", 10, 750, 100 * DAY, false, L(NEEDLE_ZONE_CLASS),
	  POLICY_INTERVAL_NONE, 0, 0 },
	{ "scalp 1.20 never", 10, 1200, NEVER, false,
	  L(NEEDLE_NOT_FOR_HOME) | L(NEEDLE_ZONE_CLASS), POLICY_INTERVAL_NONE,
	  0, 0 },
	{ "scalp 1.50 never", 10, 1500, NEVER, false, L(NEEDLE_CLINIC_ONLY),
	  POLICY_INTERVAL_NONE, 0, 0 },
};

static void test_interval_rows(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(interval_cases); i++) {
		const struct interval_case *c = &interval_cases[i];
		struct policy_query q;
		struct policy_verdict v;
		gint64 ends;

		g_test_message("case %s", c->name);
		query_init(&q);
		q.zone = c->zone;
		q.needle_um = c->needle_um;
		q.now = BASE + 60 * DAY;
		q.head_fitted = q.now - DAY;
		q.last_session = c->since == NEVER ? POLICY_TIME_NONE :
						     q.now - c->since;
		policy_check_zone(policy, &q, &v);

		g_assert_cmpint(v.allowed, ==, c->allowed);
		g_assert_cmphex(v.locks, ==, c->locks);
		g_assert_cmpint(v.reason, ==,
				c->locks ? g_bit_nth_lsf(c->locks, -1) :
					   POLICY_OK);
		g_assert_cmpint(v.interval_source, ==, c->source);
		g_assert_cmpint(v.interval_s, ==, c->interval_s);
		g_assert_cmpuint(v.row_um, ==, c->row_um);
		g_assert_null(v.plan_rule);
		g_assert_cmpint(v.now, ==, q.now);
		g_assert_false(v.override_used);
		g_assert_false(v.override_rejected);

		ends = (c->since == NEVER || !c->interval_s) ?
		       POLICY_TIME_NONE : q.last_session + c->interval_s;
		g_assert_cmpint(v.interval_ends, ==, ends);
		g_assert_cmpint(v.unlocks_at, ==,
				c->locks == L(INTERVAL) ? ends :
							  POLICY_TIME_NONE);
		/* Only the interval may be overridden; needle refusals never. */
		g_assert_cmpint(v.override_possible, ==,
				c->locks == L(INTERVAL));
	}
}

/* Messages: one sentence, with the date it opens. */
static void test_interval_messages(void)
{
	static const struct {
		int zone;
		unsigned int needle_um;
		gint64 last, now;
		const char *tz;
		const char *message;
	} cases[] = {
		{ 1, 500, BASE, BASE + 20 * DAY + 23 * HOUR, NULL,
		  "Your forehead can be treated again on 14 December at 20:00 (0.5 mm heads need 21 days between sessions)." },
		{ 2, 600, BASE, BASE + DAY, NULL,
		  "Your left cheek can be treated again on 21 December at 20:00 (0.6 mm heads follow the 0.75 mm limit of 28 days between sessions)." },
		{ 6, 300, BASE, BASE + HOUR, NULL,
		  "Your upper lip can be treated again on 26 November at 20:00 (0.3 mm heads need 72 hours between sessions)." },
		{ 3, 250, BASE, BASE + HOUR, NULL,
		  "Your right cheek can be treated again on 26 November at 20:00 (0.25 mm heads follow the 0.3 mm limit of 72 hours between sessions)." },
		{ 10, 500, BASE, BASE + DAY, NULL,
		  "Your scalp can be treated again on 30 November at 20:00 (0.5 mm heads need 7 days between sessions on the scalp)." },
		{ 8, 1000, BASE + 27 * DAY, BASE + 28 * DAY, NULL,
		  "Your décolletage can be treated again on 31 January 2026 at 20:00 (1.0 mm heads need 42 days between sessions)." },
		{ 9, 750, BASE, BASE + DAY, "+01:00",
		  "Your hands can be treated again on 21 December at 21:00 (0.75 mm heads need 28 days between sessions)." },
		{ 1, 500, POLICY_TIME_NONE, BASE, NULL,
		  "Your forehead can be treated now." },
		{ 1, 1500, POLICY_TIME_NONE, BASE, NULL,
		  "This 1.5 mm head is for clinics only: needles of 1.5 mm or longer are never used at home, even with an override." },
		{ 1, 2000, POLICY_TIME_NONE, BASE, NULL,
		  "This 2.0 mm head is for clinics only: needles of 1.5 mm or longer are never used at home, even with an override." },
		{ 4, 1200, POLICY_TIME_NONE, BASE, NULL,
		  "This 1.2 mm head is longer than 1.0 mm, the longest head for home use, so only a dermatologist's plan can allow it." },
		{ 10, 750, POLICY_TIME_NONE, BASE, NULL,
		  "Your scalp may only be treated with heads up to 0.5 mm, and this head is 0.75 mm, so only a dermatologist's plan can allow it." },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GTimeZone) tz = NULL;
		struct policy_query q;
		struct policy_verdict v;

		query_init(&q);
		q.zone = cases[i].zone;
		q.needle_um = cases[i].needle_um;
		q.last_session = cases[i].last;
		q.now = cases[i].now;
		if (cases[i].tz) {
			tz = g_time_zone_new_identifier(cases[i].tz);
			g_assert_nonnull(tz);
			q.tz = tz;
		}
		policy_check_zone(policy, &q, &v);
		g_assert_cmpstr(v.message, ==, cases[i].message);
	}
}

/* ---- Clock rollback: a clock set back never opens a lock early ---- */

static void test_clock_rollback(void)
{
	struct policy_query q;
	struct policy_verdict v;

	/* Session at BASE; ten days later the clock is set back 30 days. */
	query_init(&q);
	q.last_session = BASE;
	q.latest_seen = BASE + 10 * DAY;
	q.now = BASE + 10 * DAY - 30 * DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_INTERVAL);
	g_assert_cmpint(v.now, ==, BASE + 10 * DAY);
	g_assert_cmpint(v.unlocks_at, ==, BASE + 21 * DAY);
	g_assert_cmpstr(v.message, ==,
			"Your forehead can be treated again on 14 December at 20:00 (0.5 mm heads need 21 days between sessions).");

	/* A session recorded after the wall clock (set back since, and no
	 * latest time stored): still locked until last + interval. */
	query_init(&q);
	q.last_session = BASE;
	q.now = BASE - 30 * DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_INTERVAL);
	g_assert_cmpint(v.unlocks_at, ==, BASE + 21 * DAY);

	/* Set back 30 days just before the lock ends: still locked. */
	query_init(&q);
	q.last_session = BASE;
	q.latest_seen = BASE + 21 * DAY - 1;
	q.now = BASE + 21 * DAY - 1 - 30 * DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.now, ==, BASE + 21 * DAY - 1);

	/* The latest time seen counts as now: the lock has run out. */
	query_init(&q);
	q.last_session = BASE;
	q.latest_seen = BASE + 21 * DAY;
	q.now = BASE - 30 * DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	g_assert_cmpint(v.now, ==, BASE + 21 * DAY);

	/* Head days: fitted at BASE, 42 days seen, clock back 30 days. */
	query_init(&q);
	q.head_fitted = BASE;
	q.latest_seen = BASE + 42 * DAY;
	q.now = BASE + 12 * DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_HEAD_WORN);
	g_assert_true(v.head.worn_by_days);
	g_assert_cmpint(v.head.days, ==, 42);

	g_assert_cmpint(policy_effective_now(BASE, POLICY_TIME_NONE), ==,
			BASE);
	g_assert_cmpint(policy_effective_now(BASE, BASE + 1), ==, BASE + 1);
	g_assert_cmpint(policy_effective_now(BASE + 1, BASE), ==, BASE + 1);
}

/* ---- SAFETY.md "The roller head" ---- */

static void test_head_wear(void)
{
	static const struct {
		unsigned int uses;
		gint64 since_fitted;	/* NEVER: fitting time unknown */
		enum policy_head_state state;
		bool by_uses, by_days;
		unsigned int uses_left;
		gint64 days;
	} cases[] = {
		{ 0, DAY, POLICY_HEAD_OK, false, false, 10, 1 },
		{ 7, 10 * DAY, POLICY_HEAD_OK, false, false, 3, 10 },
		{ 8, 10 * DAY, POLICY_HEAD_REMIND, false, false, 2, 10 },
		{ 9, 10 * DAY, POLICY_HEAD_REMIND, false, false, 1, 10 },
		{ 10, 10 * DAY, POLICY_HEAD_REFUSE, true, false, 0, 10 },
		{ 11, 10 * DAY, POLICY_HEAD_REFUSE, true, false, 0, 10 },
		{ 1, 41 * DAY, POLICY_HEAD_OK, false, false, 9, 41 },
		{ 1, 42 * DAY - 1, POLICY_HEAD_OK, false, false, 9, 41 },
		{ 1, 42 * DAY, POLICY_HEAD_REFUSE, false, true, 9, 42 },
		{ 1, 100 * DAY, POLICY_HEAD_REFUSE, false, true, 9, 100 },
		{ 8, 42 * DAY, POLICY_HEAD_REFUSE, false, true, 2, 42 },
		{ 10, 42 * DAY, POLICY_HEAD_REFUSE, true, true, 0, 42 },
		{ 3, NEVER, POLICY_HEAD_OK, false, false, 7, -1 },
		{ 10, NEVER, POLICY_HEAD_REFUSE, true, false, 0, -1 },
		{ 1, -5 * DAY, POLICY_HEAD_OK, false, false, 9, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct policy_head_wear w;
		gint64 fitted = cases[i].since_fitted == NEVER ?
				POLICY_TIME_NONE :
				BASE - cases[i].since_fitted;

		g_test_message("head case %zu", i);
		policy_head_wear(policy, cases[i].uses, fitted, BASE,
				 POLICY_TIME_NONE, &w);
		g_assert_cmpint(w.state, ==, cases[i].state);
		g_assert_cmpint(w.worn_by_uses, ==, cases[i].by_uses);
		g_assert_cmpint(w.worn_by_days, ==, cases[i].by_days);
		g_assert_cmpuint(w.uses, ==, cases[i].uses);
		g_assert_cmpuint(w.uses_left, ==, cases[i].uses_left);
		g_assert_cmpint(w.days, ==, cases[i].days);
		g_assert_cmpint(w.refuse_at, ==,
				fitted == POLICY_TIME_NONE ? POLICY_TIME_NONE :
				fitted + 42 * DAY);
		g_assert_cmpuint(w.remind_at_uses, ==, 8);
		g_assert_cmpuint(w.refuse_at_uses, ==, 10);
		g_assert_cmpuint(w.refuse_after_days, ==, 42);
	}
}

static void test_head_verdicts(void)
{
	struct policy_query q;
	struct policy_verdict v;

	query_init(&q);
	q.head_uses = 7;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	g_assert_cmpint(v.head.state, ==, POLICY_HEAD_OK);
	g_assert_cmpstr(v.message, ==, "Your forehead can be treated now.");

	q.head_uses = 8;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_OK);
	g_assert_cmpint(v.head.state, ==, POLICY_HEAD_REMIND);
	g_assert_cmpstr(v.message, ==,
			"Your forehead can be treated now; this head has been used for 8 sessions and has 2 left before it must be replaced.");

	q.head_uses = 10;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_HEAD_WORN);
	g_assert_cmphex(v.locks, ==, L(HEAD_WORN));
	g_assert_true(v.override_possible);
	g_assert_cmpint(v.unlocks_at, ==, POLICY_TIME_NONE);
	g_assert_cmpstr(v.message, ==,
			"This head has been used for 10 sessions, the most allowed is 10: fit a new head before treating your forehead.");

	query_init(&q);
	q.head_fitted = BASE - 42 * DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_HEAD_WORN);
	g_assert_cmpstr(v.message, ==,
			"This head was fitted 42 days ago, the most allowed is 42: fit a new head before treating your forehead.");

	q.head_fitted = BASE - 42 * DAY + 1;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);

	/* The interval ends after the head wears out by days: the zone will
	 * not open by itself, but the interval's end is still reported. */
	query_init(&q);
	q.head_fitted = BASE - 30 * DAY;
	q.last_session = BASE;
	q.now = BASE + DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmphex(v.locks, ==, L(INTERVAL));
	g_assert_cmpint(v.interval_ends, ==, BASE + 21 * DAY);
	g_assert_cmpint(v.unlocks_at, ==, POLICY_TIME_NONE);

	/* ...and it does when the head lasts past the interval. */
	q.head_fitted = BASE - 21 * DAY + 1;
	policy_check_zone(policy, &q, &v);
	g_assert_cmpint(v.unlocks_at, ==, BASE + 21 * DAY);
}

/* ---- SAFETY.md "Before each session: the checklist" ---- */

static void test_checklist_each_item(void)
{
	static const char *const messages[] = {
		"Your forehead cannot be treated now because of active acne, infection, a cold sore or an open wound in the area; please ask a dermatologist.",
		"Your forehead cannot be treated now because of sunburn in the area; please ask a dermatologist.",
		"Your forehead cannot be treated now because of eczema, psoriasis or rosacea flaring in the area; please ask a dermatologist.",
		"Your forehead cannot be treated now because of keloid or raised scars in the past; please ask a dermatologist.",
		"Your forehead cannot be treated now because of isotretinoin in the last 6 months; please ask a dermatologist.",
		"Your forehead cannot be treated now because of blood thinners or a bleeding disorder; please ask a dermatologist.",
		"Your forehead cannot be treated now because of pregnancy or breastfeeding; please ask a dermatologist.",
		"Your forehead cannot be treated now because of a head that has not been soaked in alcohol; soak it in 70% isopropyl alcohol for 20 to 30 minutes first.",
	};

	g_assert_cmpuint(policy_checklist_count(policy), ==,
			 G_N_ELEMENTS(messages));

	for (unsigned int i = 0; i < G_N_ELEMENTS(messages); i++) {
		const struct policy_checklist_item *it =
			policy_checklist_item(policy, i);
		struct policy_checklist cl;
		struct policy_query q;
		struct policy_verdict v;

		checklist_clear(&cl);
		cl.answer[i] = it->refuse_if_yes ? POLICY_ANSWER_YES :
						   POLICY_ANSWER_NO;
		query_init(&q);
		q.checklist = &cl;
		policy_check_zone(policy, &q, &v);

		g_test_message("item %s", it->id);
		g_assert_false(v.allowed);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_CHECKLIST);
		g_assert_cmphex(v.locks, ==, L(CHECKLIST));
		g_assert_cmpint(v.checklist_item, ==, (int)i);
		g_assert_true(v.override_possible);
		g_assert_cmpint(v.unlocks_at, ==, POLICY_TIME_NONE);
		g_assert_cmpstr(v.message, ==, messages[i]);

		/* Every item refuses every zone when no zone is named. */
		q.zone = DP_ZONE_SCALP;
		policy_check_zone(policy, &q, &v);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_CHECKLIST);
	}
}

static void test_checklist_zones(void)
{
	int sunburn = policy_checklist_find(policy, "sunburn");
	int scars = policy_checklist_find(policy, "scars");
	struct policy_checklist cl;
	struct policy_query q;
	struct policy_verdict v;

	g_assert_cmpint(sunburn, >=, 0);
	g_assert_cmpint(scars, >=, 0);

	/* "In the area": sunburn on the left cheek stops only that zone. */
	checklist_clear(&cl);
	cl.answer[sunburn] = POLICY_ANSWER_YES;
	cl.zones[sunburn] = POLICY_ZONE_BIT(DP_ZONE_LEFT_CHEEK) |
			    POLICY_ZONE_BIT(DP_ZONE_NOSE);
	query_init(&q);
	q.checklist = &cl;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	q.zone = DP_ZONE_LEFT_CHEEK;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.checklist_item, ==, sunburn);
	q.zone = DP_ZONE_NOSE;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);

	/* A person-wide item ignores the zones named. */
	checklist_clear(&cl);
	cl.answer[scars] = POLICY_ANSWER_YES;
	cl.zones[scars] = POLICY_ZONE_BIT(DP_ZONE_LEFT_CHEEK);
	query_init(&q);
	q.checklist = &cl;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.checklist_item, ==, scars);

	/* Two refusing items: the first is named. */
	checklist_clear(&cl);
	cl.answer[scars] = POLICY_ANSWER_YES;
	cl.answer[sunburn] = POLICY_ANSWER_YES;
	policy_check_zone(policy, &q, &v);
	g_assert_cmpint(v.checklist_item, ==, sunburn);
}

static void test_checklist_missing(void)
{
	struct policy_checklist cl;
	struct policy_query q;
	struct policy_verdict v;

	query_init(&q);
	q.checklist = NULL;
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_CHECKLIST_MISSING);
	g_assert_false(v.override_possible);
	g_assert_cmpstr(v.message, ==,
			"Answer the checklist before treating your forehead.");

	/* An override never stands in for answering. */
	q.override_reason = "My dermatologist said this is fine today";
	policy_check_zone(policy, &q, &v);
	g_assert_false(v.allowed);
	g_assert_false(v.override_used);

	for (unsigned int i = 0; i < policy_checklist_count(policy); i++) {
		checklist_clear(&cl);
		cl.answer[i] = POLICY_ANSWER_UNSET;
		query_init(&q);
		q.checklist = &cl;
		policy_check_zone(policy, &q, &v);
		g_assert_false(v.allowed);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_CHECKLIST_MISSING);
		g_assert_cmpstr(v.message, ==,
				"Answer every question of the checklist before treating your forehead.");
	}

	/* The interval takes precedence in the message, and the zone still
	 * opens by itself at its end (answering is up to the user). */
	query_init(&q);
	q.checklist = NULL;
	q.last_session = BASE - DAY;
	policy_check_zone(policy, &q, &v);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_INTERVAL);
	g_assert_cmphex(v.locks, ==, L(INTERVAL) | L(CHECKLIST_MISSING));
	g_assert_cmpint(v.unlocks_at, ==, BASE + 20 * DAY);
}

static void test_checklist_robustness(void)
{
	struct policy_checklist cl;
	struct policy_query q;
	struct policy_verdict v;

	/* An answer value that is neither yes nor no counts as unanswered. */
	checklist_clear(&cl);
	cl.answer[0] = 7;
	query_init(&q);
	q.checklist = &cl;
	policy_check_zone(policy, &q, &v);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_CHECKLIST_MISSING);
}

/* ---- SAFETY.md "Overrides" ---- */

static const char full_reason[] =
	"Dr. Example agreed to a shorter gap by phone";

static void test_override_reasons(void)
{
	char *long_reason = g_strnfill(501, 'a');
	char *long_words = NULL;
	const struct {
		const char *reason;
		bool ok;
	} cases[] = {
		{ "", false },
		{ "   \t  ", false },
		{ "ok", false },
		{ "override", false },
		{ "because I want", false },	/* 14 characters, 2 words */
		{ "yes yes yes yes yes", false },
		{ "a b c d e f g h i j k l", false },
		{ "line one\nline two three", false },
		{ "tab\tseparated words here", false },
		{ "\xff\xfe not utf-8 at all", false },
		{ full_reason, true },
		{ "  my plan allows it today  ", true },
		{ "Mi dermatóloga lo autorizó ayer", true },
		{ "Red spot healed 5 days ago", true },
		{ long_reason, false },
	};
	g_autoptr(GError) error = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) e = NULL;
		bool ok = policy_check_override_reason(policy, cases[i].reason,
						       &e);

		g_test_message("reason case %zu", i);
		g_assert_cmpint(ok, ==, cases[i].ok);
		if (ok)
			g_assert_no_error(e);
		else
			g_assert_error(e, POLICY_ERROR, POLICY_ERROR_VALUE);
	}

	g_assert_false(policy_check_override_reason(policy, "ok", &error));
	g_assert_cmpstr(error->message, ==,
			"An override needs its reason typed in full: at least 15 characters and 3 different words.");
	g_clear_error(&error);
	g_assert_false(policy_check_override_reason(policy, NULL, &error));
	g_assert_cmpstr(error->message, ==,
			"An override needs a reason, typed as text.");
	g_clear_error(&error);

	/* 500 characters pass, 501 do not. */
	long_words = g_strdup_printf("one two three %s",
				     long_reason + 501 - 486);
	g_assert_cmpint(g_utf8_strlen(long_words, -1), ==, 500);
	g_assert_true(policy_check_override_reason(policy, long_words, NULL));
	g_free(long_reason);
	g_free(long_words);
}

static void test_override_locks(void)
{
	struct policy_checklist cl;
	struct policy_query q;
	struct policy_verdict v;
	static const char *const rejected[] = {
		"", "   ", "\t\n", "ok", "because I want",
	};

	/* Interval: empty, whitespace and short reasons stay refused. */
	for (size_t i = 0; i < G_N_ELEMENTS(rejected); i++) {
		query_init(&q);
		q.last_session = BASE - DAY;
		q.override_reason = rejected[i];
		policy_check_zone(policy, &q, &v);
		g_assert_false(v.allowed);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_INTERVAL);
		g_assert_true(v.override_possible);
		g_assert_true(v.override_rejected);
		g_assert_false(v.override_used);
	}

	/* A full reason passes the interval, and the verdict flags it. */
	query_init(&q);
	q.last_session = BASE - DAY;
	q.override_reason = full_reason;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	g_assert_true(v.override_used);
	g_assert_false(v.override_rejected);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_INTERVAL);
	g_assert_cmphex(v.locks, ==, L(INTERVAL));
	g_assert_cmpstr(v.message, ==,
			"Your forehead may be treated now under your override; the reason is kept with the session and flagged in every export.");

	/* Head wear and the checklist too, all at once. */
	checklist_clear(&cl);
	cl.answer[policy_checklist_find(policy, "sunburn")] = POLICY_ANSWER_YES;
	query_init(&q);
	q.checklist = &cl;
	q.head_uses = 12;
	q.last_session = BASE - DAY;
	q.override_reason = full_reason;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	g_assert_true(v.override_used);
	g_assert_cmpint(v.reason, ==, POLICY_REASON_HEAD_WORN);
	g_assert_cmphex(v.locks, ==,
			L(HEAD_WORN) | L(CHECKLIST) | L(INTERVAL));

	/* Nothing to override: allowed, and no override recorded. */
	query_init(&q);
	q.override_reason = full_reason;
	policy_check_zone(policy, &q, &v);
	g_assert_true(v.allowed);
	g_assert_false(v.override_used);
	g_assert_cmpint(v.reason, ==, POLICY_OK);
}

/* SAFETY.md: 1.5 mm or longer never at home, even with an override. */
static void test_override_never_long_needles(void)
{
	static const unsigned int needles[] = { 1500, 1501, 2000, 2500 };
	static const int zones[] = { 1, 7, 9, 10 };

	for (size_t i = 0; i < G_N_ELEMENTS(needles); i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(zones); j++) {
			struct policy_query q;
			struct policy_verdict v;

			query_init(&q);
			q.zone = zones[j];
			q.needle_um = needles[i];
			policy_check_zone(policy, &q, &v);
			g_assert_false(v.allowed);
			g_assert_cmpint(v.reason, ==,
					POLICY_REASON_NEEDLE_CLINIC_ONLY);
			g_assert_false(v.override_possible);

			q.override_reason = full_reason;
			q.last_session = BASE - 100 * DAY;
			policy_check_zone(policy, &q, &v);
			g_assert_false(v.allowed);
			g_assert_false(v.override_used);
			g_assert_false(v.override_rejected);
			g_assert_cmpint(v.reason, ==,
					POLICY_REASON_NEEDLE_CLINIC_ONLY);
		}
	}

	/* Between 1.0 and 1.5 mm, or too long for the scalp: no override. */
	{
		struct policy_query q;
		struct policy_verdict v;

		query_init(&q);
		q.needle_um = 1200;
		q.override_reason = full_reason;
		policy_check_zone(policy, &q, &v);
		g_assert_false(v.allowed);
		g_assert_false(v.override_possible);

		q.zone = DP_ZONE_SCALP;
		q.needle_um = 750;
		policy_check_zone(policy, &q, &v);
		g_assert_false(v.allowed);
		g_assert_false(v.override_possible);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_NEEDLE_ZONE_CLASS);
	}
}

/* ---- A dermatologist's plan file ---- */

static const char plan_text[] =
	"# A plan from the dermatologist\n"
	"[plan]\n"
	"format = 1\n"
	"dermatologist = Dr. A. Example, City Skin Clinic\n"
	"signed = 2025-11-20\n"
	"\n"
	"[rule forehead]\n"
	"zone = Forehead\n"
	"needle_mm = 0.5\n"
	"interval_days = 14\n"
	"\n"
	"[rule scalp]\n"
	"zone = scalp\n"
	"needle_mm = 0.75\n"
	"interval_days = 14\n"
	"\n"
	"[rule cheek]\n"
	"zone = left-cheek\n"
	"needle_mm = 1.2\n"
	"interval_days = 42\n"
	"\n"
	"[rule neck]\n"
	"zone = neck\n"
	"needle_mm = 0.250\n"
	"interval_hours = 168\n";

static struct plan *load_test_plan(void)
{
	g_autofree char *path = write_tmp("plan.conf", plan_text, -1);
	g_autoptr(GError) error = NULL;
	struct plan *plan = plan_load(policy, path, &error);

	g_assert_no_error(error);
	g_assert_nonnull(plan);
	g_unlink(path);
	return plan;
}

static void test_plan_file(void)
{
	struct plan *plan = load_test_plan();
	const struct plan_rule *r;

	g_assert_cmpstr(plan_dermatologist(plan), ==,
			"Dr. A. Example, City Skin Clinic");
	g_assert_cmpstr(plan_signed(plan), ==, "2025-11-20");
	g_assert_true(g_str_has_suffix(plan_path(plan), "/plan.conf"));
	g_assert_cmpuint(plan_rule_count(plan), ==, 4);

	r = plan_rule_get(plan, 0);
	g_assert_cmpint(r->zone, ==, DP_ZONE_FOREHEAD);
	g_assert_cmpuint(r->needle_um, ==, 500);
	g_assert_cmpint(r->interval_s, ==, 14 * DAY);
	g_assert_cmpstr(r->group, ==, "rule forehead");
	r = plan_rule_get(plan, 3);
	g_assert_cmpint(r->zone, ==, DP_ZONE_NECK);
	g_assert_cmpuint(r->needle_um, ==, 250);
	g_assert_cmpint(r->interval_s, ==, 168 * HOUR);
	g_assert_null(plan_rule_get(plan, 4));

	g_assert_true(plan_find_rule(plan, DP_ZONE_SCALP, 750) ==
		      plan_rule_get(plan, 1));
	g_assert_null(plan_find_rule(plan, DP_ZONE_SCALP, 500));
	g_assert_null(plan_find_rule(plan, DP_ZONE_RIGHT_CHEEK, 500));

	plan_free(plan);
}

static void test_plan_verdicts(void)
{
	struct plan *plan = load_test_plan();
	static const struct {
		const char *name;
		int zone;
		unsigned int needle_um;
		gint64 since;
		bool allowed;
		enum policy_reason reason;
		enum policy_interval_source source;
		gint64 interval_s;
	} cases[] = {
		/* loosened: 14 days instead of 21 */
		{ "forehead 0.5 14d-1s", 1, 500, 14 * DAY - 1, false,
		  POLICY_REASON_INTERVAL, POLICY_INTERVAL_PLAN, 14 * DAY },
		{ "forehead 0.5 14d", 1, 500, 14 * DAY, true, POLICY_OK,
		  POLICY_INTERVAL_PLAN, 14 * DAY },
		/* other zones and lengths keep the table */
		{ "right cheek 0.5 14d", 3, 500, 14 * DAY, false,
		  POLICY_REASON_INTERVAL, POLICY_INTERVAL_ROW, 21 * DAY },
		{ "forehead 0.6 14d", 1, 600, 14 * DAY, false,
		  POLICY_REASON_INTERVAL, POLICY_INTERVAL_ROW, 28 * DAY },
		/* allowed where the table refuses, below 1.5 mm */
		{ "scalp 0.75 14d", 10, 750, 14 * DAY, true, POLICY_OK,
		  POLICY_INTERVAL_PLAN, 14 * DAY },
		{ "scalp 0.75 13d", 10, 750, 13 * DAY, false,
		  POLICY_REASON_INTERVAL, POLICY_INTERVAL_PLAN, 14 * DAY },
		{ "left cheek 1.2 42d", 2, 1200, 42 * DAY, true, POLICY_OK,
		  POLICY_INTERVAL_PLAN, 42 * DAY },
		{ "right cheek 1.2", 3, 1200, 42 * DAY, false,
		  POLICY_REASON_NEEDLE_NOT_FOR_HOME, POLICY_INTERVAL_NONE, 0 },
		/* a stricter plan is followed too */
		{ "neck 0.25 72h", 7, 250, 72 * HOUR, false,
		  POLICY_REASON_INTERVAL, POLICY_INTERVAL_PLAN, 7 * DAY },
		{ "neck 0.25 7d", 7, 250, 7 * DAY, true, POLICY_OK,
		  POLICY_INTERVAL_PLAN, 7 * DAY },
		/* never 1.5 mm, whatever the plan says */
		{ "forehead 1.5", 1, 1500, 100 * DAY, false,
		  POLICY_REASON_NEEDLE_CLINIC_ONLY, POLICY_INTERVAL_NONE, 0 },
		{ "forehead 2.0", 1, 2000, 100 * DAY, false,
		  POLICY_REASON_NEEDLE_CLINIC_ONLY, POLICY_INTERVAL_NONE, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct policy_query q;
		struct policy_verdict v;

		g_test_message("plan case %s", cases[i].name);
		query_init(&q);
		q.plan = plan;
		q.zone = cases[i].zone;
		q.needle_um = cases[i].needle_um;
		q.last_session = BASE - cases[i].since;
		policy_check_zone(policy, &q, &v);
		g_assert_cmpint(v.allowed, ==, cases[i].allowed);
		g_assert_cmpint(v.reason, ==, cases[i].reason);
		g_assert_cmpint(v.interval_source, ==, cases[i].source);
		g_assert_cmpint(v.interval_s, ==, cases[i].interval_s);
		if (cases[i].source == POLICY_INTERVAL_PLAN)
			g_assert_true(v.plan_rule ==
				      plan_find_rule(plan, cases[i].zone,
						     cases[i].needle_um));
		else
			g_assert_null(v.plan_rule);

		/* An override cannot open 1.5 mm with a plan either. */
		if (cases[i].reason == POLICY_REASON_NEEDLE_CLINIC_ONLY) {
			q.override_reason = full_reason;
			policy_check_zone(policy, &q, &v);
			g_assert_false(v.allowed);
			g_assert_false(v.override_possible);
		}
	}

	{
		struct policy_query q;
		struct policy_verdict v;

		query_init(&q);
		q.plan = plan;
		q.last_session = BASE - DAY;
		policy_check_zone(policy, &q, &v);
		g_assert_cmpstr(v.message, ==,
				"Your forehead can be treated again on 6 December at 20:00 (your dermatologist's plan sets 14 days between sessions for 0.5 mm heads).");
	}

	plan_free(plan);
}

/* ---- SAFETY.md "Passes" ---- */

static void test_passes(void)
{
	static const struct {
		unsigned int dir, zone;
		enum policy_pass_state state;
		bool warn;
	} cases[] = {
		{ 1, 1, POLICY_PASS_BELOW_TARGET, false },
		{ 3, 11, POLICY_PASS_BELOW_TARGET, false },
		{ 4, 4, POLICY_PASS_TARGET, false },
		{ 5, 5, POLICY_PASS_TARGET, false },
		{ 5, 15, POLICY_PASS_TARGET, false },
		{ 6, 6, POLICY_PASS_OVER_DIRECTION, true },
		{ 9, 14, POLICY_PASS_OVER_DIRECTION, true },
		{ 1, 16, POLICY_PASS_OVER_ZONE, true },
		{ 5, 16, POLICY_PASS_OVER_ZONE, true },
		{ 6, 16, POLICY_PASS_OVER_ZONE, true },
		{ 40, 100, POLICY_PASS_OVER_ZONE, true },
	};
	struct policy_pass_verdict v;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		policy_check_pass(policy, DP_ZONE_FOREHEAD, ZONE_DIR_VERTICAL,
				  cases[i].dir, cases[i].zone, &v);
		g_assert_cmpint(v.state, ==, cases[i].state);
		g_assert_cmpint(v.warn, ==, cases[i].warn);
	}

	policy_check_pass(policy, DP_ZONE_FOREHEAD, ZONE_DIR_VERTICAL, 2, 2,
			  &v);
	g_assert_cmpstr(v.message, ==,
			"Your forehead has 2 of 4 vertical passes.");
	policy_check_pass(policy, DP_ZONE_LEFT_CHEEK, ZONE_DIR_DIAGONAL, 4, 4,
			  &v);
	g_assert_cmpstr(v.message, ==,
			"Your left cheek has 4 diagonal passes: the target is reached.");
	policy_check_pass(policy, DP_ZONE_LEFT_CHEEK, ZONE_DIR_DIAGONAL, 5, 5,
			  &v);
	g_assert_cmpstr(v.message, ==,
			"Your left cheek has 5 diagonal passes: the target is reached and this is the maximum.");
	policy_check_pass(policy, DP_ZONE_NOSE, ZONE_DIR_HORIZONTAL, 6, 6, &v);
	g_assert_cmpstr(v.message, ==,
			"Pass 6 in the horizontal direction on your nose is beyond the maximum of 5 per direction: it is recorded, but roll no more this way.");
	policy_check_pass(policy, DP_ZONE_CHIN, ZONE_DIR_HORIZONTAL, 5, 16, &v);
	g_assert_cmpstr(v.message, ==,
			"Pass 16 on your chin is beyond the maximum of 15 per zone: it is recorded, but stop rolling this zone now.");
}

/* ---- SAFETY.md "Pressure" ---- */

static void test_pressure(void)
{
	static const struct {
		unsigned int cn;
		enum policy_pressure band;
		const char *name;
	} cases[] = {
		{ 0, POLICY_PRESSURE_TOO_LIGHT, "too-light" },
		{ 99, POLICY_PRESSURE_TOO_LIGHT, "too-light" },
		{ 100, POLICY_PRESSURE_TARGET, "target" },
		{ 250, POLICY_PRESSURE_TARGET, "target" },
		{ 400, POLICY_PRESSURE_TARGET, "target" },
		{ 401, POLICY_PRESSURE_HIGH, "high" },
		{ 500, POLICY_PRESSURE_HIGH, "high" },
		{ 501, POLICY_PRESSURE_TOO_HARD, "too-hard" },
		{ 65535, POLICY_PRESSURE_TOO_HARD, "too-hard" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		enum policy_pressure p = policy_classify_force(policy,
							       cases[i].cn);

		g_assert_cmpint(p, ==, cases[i].band);
		g_assert_cmpstr(policy_pressure_name(p), ==, cases[i].name);
	}
	g_assert_null(policy_pressure_name((enum policy_pressure)4));
}

static void test_reason_names(void)
{
	static const char *const names[POLICY_REASON_COUNT] = {
		"ok", "invalid-input", "needle-clinic-only",
		"needle-not-for-home", "needle-zone-class", "head-worn",
		"checklist", "interval", "checklist-missing",
	};

	for (int i = 0; i < POLICY_REASON_COUNT; i++)
		g_assert_cmpstr(policy_reason_name((enum policy_reason)i), ==,
				names[i]);
	g_assert_null(policy_reason_name(POLICY_REASON_COUNT));
}

/* ---- Bad input to the verdict ---- */

static void test_robustness_bad_queries(void)
{
	static const struct {
		int zone;
		unsigned int needle_um;
		gint64 now, latest, last, fitted;
		const char *message;
	} cases[] = {
		{ 0, 500, BASE, POLICY_TIME_NONE, POLICY_TIME_NONE, BASE,
		  "Zone 0 is not a zone dermaroll knows." },
		{ 11, 500, BASE, POLICY_TIME_NONE, POLICY_TIME_NONE, BASE,
		  "Zone 11 is not a zone dermaroll knows." },
		{ -3, 500, BASE, POLICY_TIME_NONE, POLICY_TIME_NONE, BASE,
		  "Zone -3 is not a zone dermaroll knows." },
		{ 1, 0, BASE, POLICY_TIME_NONE, POLICY_TIME_NONE, BASE,
		  "The head did not report its needle length, so dermaroll cannot check the limits." },
		{ 1, 500, -1, POLICY_TIME_NONE, POLICY_TIME_NONE, BASE,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
		{ 1, 500, POLICY_TIME_NONE, POLICY_TIME_NONE, POLICY_TIME_NONE,
		  BASE,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
		{ 1, 500, POLICY_TIME_MAX + 1, POLICY_TIME_NONE,
		  POLICY_TIME_NONE, BASE,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
		{ 1, 500, BASE, G_MAXINT64, POLICY_TIME_NONE, BASE,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
		{ 1, 500, BASE, POLICY_TIME_NONE, -5, BASE,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
		{ 1, 500, BASE, POLICY_TIME_NONE, G_MAXINT64, BASE,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
		{ 1, 500, BASE, POLICY_TIME_NONE, POLICY_TIME_NONE, G_MAXINT64,
		  "A clock or a stored time is impossible, so dermaroll cannot check the limits." },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct policy_query q;
		struct policy_verdict v;

		query_init(&q);
		q.zone = cases[i].zone;
		q.needle_um = cases[i].needle_um;
		q.now = cases[i].now;
		q.latest_seen = cases[i].latest;
		q.last_session = cases[i].last;
		q.head_fitted = cases[i].fitted;
		q.override_reason = full_reason;
		policy_check_zone(policy, &q, &v);
		g_assert_false(v.allowed);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_INVALID_INPUT);
		g_assert_false(v.override_possible);
		g_assert_false(v.override_used);
		g_assert_cmpstr(v.message, ==, cases[i].message);
	}

	/* The edges of the valid range do not overflow. */
	{
		struct policy_query q;
		struct policy_verdict v;

		query_init(&q);
		q.needle_um = 1000;
		q.now = POLICY_TIME_MAX;
		q.last_session = POLICY_TIME_MAX;
		q.head_fitted = POLICY_TIME_MAX;
		policy_check_zone(policy, &q, &v);
		g_assert_false(v.allowed);
		g_assert_cmpint(v.interval_ends, ==, POLICY_TIME_MAX + 42 * DAY);
		g_assert_cmpstr(v.message, ==,
				"Your forehead can be treated again on a date after the year 9999 (1.0 mm heads need 42 days between sessions).");

		q.now = 0;
		q.last_session = 0;
		q.head_fitted = 0;
		q.latest_seen = 0;
		policy_check_zone(policy, &q, &v);
		g_assert_cmpint(v.reason, ==, POLICY_REASON_INTERVAL);
		g_assert_cmpstr(v.message, ==,
				"Your forehead can be treated again on 12 February at 00:00 (1.0 mm heads need 42 days between sessions).");
	}
}

/* ---- Malformed table files ---- */

struct bad_file {
	const char *name;
	const char *from;	/* replaced once; NULL: the whole text */
	const char *to;
	int code;
	const char *line_of;	/* the line @LINE@ stands for; NULL: none */
	const char *message;	/* @PATH@ and @LINE@ are filled in */
};

static const struct bad_file bad_tables[] = {
	{ "missing-key", "max_per_zone = 15\n", "",
	  POLICY_ERROR_MISSING, "[passes]",
	  "@PATH@:@LINE@: [passes]: the key “max_per_zone” is missing." },
	{ "missing-interval", "interval_days = 21\n", "",
	  POLICY_ERROR_MISSING, "[needle 0.50]",
	  "@PATH@:@LINE@: [needle 0.50]: the key “interval_days” (or “interval_hours”) is missing." },
	{ "missing-group", "[override]\nmin_chars = 15\nmin_words = 3\n", "",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the group [override] is missing." },
	{ "renamed-group", "[head]\n", "[heads]\n",
	  POLICY_ERROR_UNKNOWN, "[heads]",
	  "@PATH@:@LINE@: [heads]: this group is not part of the table format." },
	{ "wrong-version", "format = 1\n", "format = 2\n",
	  POLICY_ERROR_FORMAT, "format = 2",
	  "@PATH@:@LINE@: [table] format: the table has format 2, but this dermaroll reads format 1." },
	{ "version-zero", "format = 1\n", "format = 0\n",
	  POLICY_ERROR_VALUE, "format = 0",
	  "@PATH@:@LINE@: [table] format: “0” is not a whole number from 1 to 999999." },
	{ "table-version-not-number", "version = 1\n", "version = one\n",
	  POLICY_ERROR_VALUE, "version = one",
	  "@PATH@:@LINE@: [table] version: “one” is not a whole number from 1 to 999999." },
	{ "bad-date", "date = 2025-11-25", "date = 2025-02-30",
	  POLICY_ERROR_VALUE, "date = 2025-02-30",
	  "@PATH@:@LINE@: [table] date: “2025-02-30” is not a date written YYYY-MM-DD." },
	{ "interval-not-number", "interval_days = 21", "interval_days = three weeks",
	  POLICY_ERROR_VALUE, "three weeks",
	  "@PATH@:@LINE@: [needle 0.50] interval_days: “three weeks” is not a whole number from 1 to 3650." },
	{ "interval-negative", "interval_days = 28", "interval_days = -28",
	  POLICY_ERROR_VALUE, "-28",
	  "@PATH@:@LINE@: [needle 0.75] interval_days: “-28” is not a whole number from 1 to 3650." },
	{ "interval-zero", "interval_hours = 72", "interval_hours = 0",
	  POLICY_ERROR_VALUE, "interval_hours = 0",
	  "@PATH@:@LINE@: [needle 0.30] interval_hours: “0” is not a whole number from 1 to 87600." },
	{ "interval-float", "interval_days = 42", "interval_days = 42.5",
	  POLICY_ERROR_VALUE, "42.5",
	  "@PATH@:@LINE@: [needle 1.00] interval_days: “42.5” is not a whole number from 1 to 3650." },
	{ "interval-huge", "interval_days = 42", "interval_days = 99999999999",
	  POLICY_ERROR_VALUE, "99999999999",
	  "@PATH@:@LINE@: [needle 1.00] interval_days: “99999999999” is not a whole number from 1 to 3650." },
	{ "interval-both", "interval_days = 42\n",
	  "interval_days = 42\ninterval_hours = 500\n",
	  POLICY_ERROR_VALUE, "interval_hours = 500",
	  "@PATH@:@LINE@: [needle 1.00] interval_hours: give interval_days or interval_hours, not both." },
	{ "interval-shorter-for-longer", "interval_days = 28", "interval_days = 14",
	  POLICY_ERROR_VALUE, "interval_days = 14",
	  "@PATH@:@LINE@: [needle 0.75] interval_days: a longer needle cannot need a shorter interval than [needle 0.50]." },
	{ "length-comma", "up_to_mm = 0.75", "up_to_mm = 0,75",
	  POLICY_ERROR_VALUE, "0,75",
	  "@PATH@:@LINE@: [needle 0.75] up_to_mm: “0,75” is not a number of mm from 0.001 to 1.5 (at most 3 decimals)." },
	{ "length-negative", "up_to_mm = 0.30", "up_to_mm = -0.30",
	  POLICY_ERROR_VALUE, "-0.30",
	  "@PATH@:@LINE@: [needle 0.30] up_to_mm: “-0.30” is not a number of mm from 0.001 to 1.5 (at most 3 decimals)." },
	{ "length-above-home", "up_to_mm = 1.00", "up_to_mm = 1.60",
	  POLICY_ERROR_VALUE, "1.60",
	  "@PATH@:@LINE@: [needle 1.00] up_to_mm: “1.60” is not a number of mm from 0.001 to 1.5 (at most 3 decimals)." },
	{ "length-duplicate", "up_to_mm = 0.75", "up_to_mm = 0.50",
	  POLICY_ERROR_VALUE, "up_to_mm = 0.50\ninterval_days = 28",
	  "@PATH@:@LINE@: [needle 0.75] up_to_mm: [needle 0.50] has the same length." },
	{ "home-loosened", "refuse_from_mm = 1.50", "refuse_from_mm = 2.00",
	  POLICY_ERROR_VALUE, "2.00",
	  "@PATH@:@LINE@: [home] refuse_from_mm: “2.00” is not a number of mm from 0.001 to 1.5 (at most 3 decimals)." },
	{ "home-below-rows", "refuse_from_mm = 1.50", "refuse_from_mm = 1.00",
	  POLICY_ERROR_VALUE, "refuse_from_mm = 1.00",
	  "@PATH@:@LINE@: [home] refuse_from_mm: it must be longer than the longest row, [needle 1.00]." },
	{ "scalp-at-home-limit", "max_needle_mm = 0.50", "max_needle_mm = 1.50",
	  POLICY_ERROR_VALUE, "max_needle_mm = 1.50",
	  "@PATH@:@LINE@: [class scalp] max_needle_mm: it must be shorter than [home] refuse_from_mm." },
	{ "class-unknown", "[class scalp]", "[class feet]",
	  POLICY_ERROR_UNKNOWN, "[class feet]",
	  "@PATH@:@LINE@: [class feet]: the zone classes are face, body and scalp." },
	{ "passes-target-over-max", "target_per_direction = 4", "target_per_direction = 6",
	  POLICY_ERROR_VALUE, "max_per_direction",
	  "@PATH@:@LINE@: [passes] max_per_direction: the maximum is below target_per_direction." },
	{ "passes-zone-below-direction", "max_per_zone = 15", "max_per_zone = 3",
	  POLICY_ERROR_VALUE, "max_per_zone = 3",
	  "@PATH@:@LINE@: [passes] max_per_zone: the maximum per zone is below max_per_direction." },
	{ "pressure-bands-order", "target_max_n = 4.00", "target_max_n = 6.00",
	  POLICY_ERROR_VALUE, "warn_above_n",
	  "@PATH@:@LINE@: [pressure] warn_above_n: the warning band must not start below target_max_n." },
	{ "pressure-decimals", "too_light_below_n = 1.00", "too_light_below_n = 1.005",
	  POLICY_ERROR_VALUE, "1.005",
	  "@PATH@:@LINE@: [pressure] too_light_below_n: “1.005” is not a number of N from 0.01 to 100.0 (at most 2 decimals)." },
	{ "pressure-not-number", "warn_above_n = 5.00", "warn_above_n = 5 N",
	  POLICY_ERROR_VALUE, "5 N",
	  "@PATH@:@LINE@: [pressure] warn_above_n: “5 N” is not a number of N from 0.01 to 100.0 (at most 2 decimals)." },
	{ "head-remind-after-refuse", "remind_at_uses = 8", "remind_at_uses = 12",
	  POLICY_ERROR_VALUE, "remind_at_uses = 12",
	  "@PATH@:@LINE@: [head] remind_at_uses: the reminder must come no later than refuse_at_uses." },
	{ "head-days-negative", "refuse_after_days = 42", "refuse_after_days = -42",
	  POLICY_ERROR_VALUE, "-42",
	  "@PATH@:@LINE@: [head] refuse_after_days: “-42” is not a whole number from 1 to 3650." },
	{ "unknown-key", "interval_days = 21\n", "interval_days = 21\ninterval_weeks = 3\n",
	  POLICY_ERROR_UNKNOWN, "interval_weeks",
	  "@PATH@:@LINE@: [needle 0.50] interval_weeks: this key is not part of the format." },
	{ "unknown-group", "[head]\n", "[lasers]\npower = 3\n\n[head]\n",
	  POLICY_ERROR_UNKNOWN, "[lasers]",
	  "@PATH@:@LINE@: [lasers]: this group is not part of the table format." },
	{ "duplicate-key", "max_per_direction = 5\n",
	  "max_per_direction = 5\nmax_per_direction = 9\n",
	  POLICY_ERROR_SYNTAX, "max_per_direction = 9",
	  "@PATH@:@LINE@: [passes] max_per_direction: the key appears twice in this group." },
	{ "duplicate-group", "[head]\n", "[passes]\n\n[head]\n",
	  POLICY_ERROR_SYNTAX, "[passes]\n\n[head]",
	  "@PATH@:@LINE@: the group [passes] appears twice." },
	{ "garbage-line", "[head]\n", "[head]\nthis is not a key\n",
	  POLICY_ERROR_SYNTAX, "this is not a key",
	  "@PATH@:@LINE@: “this is not a key” is not a key = value line, a [group] or a # comment." },
	{ "bad-group-line", "[head]\n", "[head\n",
	  POLICY_ERROR_SYNTAX, "[head\n",
	  "@PATH@:@LINE@: “[head” is not a valid [group] line." },
	{ "key-before-group", "# dermaroll safety limits", "format = 1\n#",
	  POLICY_ERROR_SYNTAX, "format = 1\n#",
	  "@PATH@:@LINE@: a key comes before the first [group]." },
	{ "not-utf8", "Is the area sunburnt?", "Is the area \xff sunburnt?",
	  POLICY_ERROR_SYNTAX, "Is the area \xff",
	  "@PATH@:@LINE@: the text is not valid UTF-8." },
	{ "nul-byte", "[pressure]\n", "[pressure]\n@NUL@\n",
	  POLICY_ERROR_SYNTAX, "@NUL@",
	  "@PATH@:@LINE@: the file contains a NUL byte, so it is not text." },
	{ "empty-text", "reason = sunburn in the area", "reason =",
	  POLICY_ERROR_VALUE, "reason =\n",
	  "@PATH@:@LINE@: [checklist sunburn] reason: the text is empty." },
	{ "control-in-text", "reason = sunburn in the area", "reason = sunburn\\tin the area",
	  POLICY_ERROR_VALUE, "sunburn\\t",
	  "@PATH@:@LINE@: [checklist sunburn] reason: the text contains a control character." },
	{ "checklist-item-missing", "pregnancy;sanitised", "pregnancy;sanitised;tattoo",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the group [checklist tattoo] is missing." },
	{ "checklist-item-unlisted", "pregnancy;sanitised", "sanitised",
	  POLICY_ERROR_UNKNOWN, "[checklist pregnancy]",
	  "@PATH@:@LINE@: [checklist pregnancy]: this group is not listed in [checklist] items." },
	{ "checklist-item-twice", "pregnancy;sanitised", "pregnancy;sanitised;skin",
	  POLICY_ERROR_VALUE, "items = skin",
	  "@PATH@:@LINE@: [checklist] items: “skin” is listed twice." },
	{ "checklist-bad-id", "pregnancy;sanitised", "pregnancy;sanitised;No_Id",
	  POLICY_ERROR_VALUE, "items = skin",
	  "@PATH@:@LINE@: [checklist] items: “No_Id” is not an id (a-z, 0-9 and -)." },
	{ "checklist-bad-scope", "scope = all\nrefuse_if = no", "scope = everyone\nrefuse_if = no",
	  POLICY_ERROR_VALUE, "scope = everyone",
	  "@PATH@:@LINE@: [checklist sanitised] scope: “everyone” is neither “zone” nor “all”." },
	{ "checklist-bad-refuse-if", "refuse_if = no", "refuse_if = maybe",
	  POLICY_ERROR_VALUE, "maybe",
	  "@PATH@:@LINE@: [checklist sanitised] refuse_if: “maybe” is neither “yes” nor “no”." },
	{ "aftercare-hours", "\nhours = 72", "\nhours = 3 days",
	  POLICY_ERROR_VALUE, "3 days",
	  "@PATH@:@LINE@: [aftercare actives] hours: “3 days” is not a whole number from 0 to 8760." },
	{ "override-zero-words", "min_words = 3", "min_words = 0",
	  POLICY_ERROR_VALUE, "min_words = 0",
	  "@PATH@:@LINE@: [override] min_words: “0” is not a whole number from 1 to 50." },
	{ "no-rows", NULL, "[table]\nformat = 1\nversion = 1\ndate = 2025-01-01\n",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the table has no [needle …] interval rows." },
	{ "class-empty", "max_needle_mm = 0.50\ninterval_days = 7\n", "",
	  POLICY_ERROR_MISSING, "[class scalp]",
	  "@PATH@:@LINE@: [class scalp]: a class needs max_needle_mm, an interval, or both." },
	{ "empty-file", NULL, "",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the group [table] is missing." },
	{ "only-comments", NULL, "# nothing here\n\n# at all\n",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the group [table] is missing." },
	{ "binary", NULL, "\x7f" "ELF\x02\x01\x01",
	  POLICY_ERROR_SYNTAX, "\x7f",
	  "@PATH@:@LINE@: “?ELF???” is not a key = value line, a [group] or a # comment." },
	{ "long-garbage", NULL, "[table]\n0123456789012345678901234567890123456789012345678901234567890123456789\n",
	  POLICY_ERROR_SYNTAX, "0123",
	  "@PATH@:@LINE@: “012345678901234567890123456789012345678901234567890123456789…” is not a key = value line, a [group] or a # comment." },
};

static unsigned int line_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	unsigned int line = 1;

	g_assert_nonnull(at);
	for (const char *p = text; p < at; p++)
		if (*p == '\n')
			line++;

	return line;
}

static char *replace_once(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	g_assert_nonnull(at);
	g_assert_null(strstr(at + 1, from));
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to,
			       at + strlen(from));
}

static char *expected_message(const struct bad_file *c, const char *path,
			      const char *text)
{
	g_autofree char *line = NULL;
	GString *s = g_string_new(c->message);

	g_string_replace(s, "@PATH@", path, 0);
	if (c->line_of) {
		line = g_strdup_printf("%u", line_of(text, c->line_of));
		g_string_replace(s, "@LINE@", line, 0);
	}
	return g_string_free(s, FALSE);
}

/* Writes @text with "@NUL@" turned into a NUL byte. */
static char *write_bad(const char *name, const char *text)
{
	g_autofree char *copy = g_strdup(text);
	char *nul = strstr(copy, "@NUL@");
	size_t len = strlen(copy);

	if (nul) {
		memmove(nul + 1, nul + 5, strlen(nul + 5) + 1);
		*nul = '\0';
		len -= 4;
	}
	return write_tmp(name, copy, (gssize)len);
}

static void test_robustness_tables(void)
{
	g_autofree char *shipped = read_shipped_table();

	for (size_t i = 0; i < G_N_ELEMENTS(bad_tables); i++) {
		const struct bad_file *c = &bad_tables[i];
		g_autofree char *text = c->from ?
			replace_once(shipped, c->from, c->to) :
			g_strdup(c->to);
		g_autofree char *name = g_strdup_printf("table-%s.conf",
							c->name);
		g_autofree char *path = write_bad(name, text);
		g_autofree char *want = expected_message(c, path, text);
		g_autoptr(GError) error = NULL;
		struct policy *p;

		g_test_message("table case %s", c->name);
		p = policy_load(path, &error);
		g_assert_null(p);
		g_assert_error(error, POLICY_ERROR, c->code);
		g_assert_cmpstr(error->message, ==, want);
		g_unlink(path);
	}
}

static void test_robustness_table_read(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "no-such.conf", NULL);
	g_autofree char *prefix = g_strconcat(path, ": cannot be read: ", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_null(policy_load(path, &error));
	g_assert_error(error, POLICY_ERROR, POLICY_ERROR_READ);
	g_assert_true(g_str_has_prefix(error->message, prefix));
	g_clear_error(&error);

	g_assert_null(policy_load(tmpdir, &error));
	g_assert_error(error, POLICY_ERROR, POLICY_ERROR_READ);
	g_clear_error(&error);

	/* Far too large to be a table: refused before parsing. */
	{
		g_autofree char *big = g_strnfill(300000, '#');
		g_autofree char *big_path = write_tmp("big.conf", big, -1);
		g_autofree char *want = g_strconcat(big_path,
			": the file is 300000 bytes, more than the 262144 a table or plan may have.",
			NULL);

		g_assert_null(policy_load(big_path, &error));
		g_assert_error(error, POLICY_ERROR, POLICY_ERROR_SYNTAX);
		g_assert_cmpstr(error->message, ==, want);
		g_unlink(big_path);
	}
}

/* Tolerated variations of a valid table load to the same limits. */
static void test_robustness_table_variants(void)
{
	g_autofree char *shipped = read_shipped_table();
	GString *crlf = g_string_new(shipped);
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	struct policy *p;
	struct policy_passes ps;

	g_string_replace(crlf, "\n", "\r\n", 0);
	path = write_tmp("table-crlf.conf", crlf->str, -1);
	g_string_free(crlf, TRUE);

	p = policy_load(path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(p);
	policy_get_passes(p, DP_ZONE_FOREHEAD, &ps);
	g_assert_cmpuint(ps.max_per_zone, ==, 15);
	g_assert_cmpuint(policy_checklist_count(p), ==, 8);
	policy_free(p);
	g_unlink(path);
}

/* ---- Malformed plan files ---- */

static const struct bad_file bad_plans[] = {
	{ "missing-dermatologist", "dermatologist = Dr. A. Example, City Skin Clinic\n", "",
	  POLICY_ERROR_MISSING, "[plan]",
	  "@PATH@:@LINE@: [plan]: the key “dermatologist” is missing." },
	{ "missing-signed", "signed = 2025-11-20\n", "",
	  POLICY_ERROR_MISSING, "[plan]",
	  "@PATH@:@LINE@: [plan]: the key “signed” is missing." },
	{ "bad-date", "signed = 2025-11-20", "signed = 20/11/2025",
	  POLICY_ERROR_VALUE, "signed =",
	  "@PATH@:@LINE@: [plan] signed: “20/11/2025” is not a date written YYYY-MM-DD." },
	{ "bad-month", "signed = 2025-11-20", "signed = 2025-13-01",
	  POLICY_ERROR_VALUE, "signed =",
	  "@PATH@:@LINE@: [plan] signed: “2025-13-01” is not a date written YYYY-MM-DD." },
	{ "wrong-format", "format = 1", "format = 3",
	  POLICY_ERROR_FORMAT, "format = 3",
	  "@PATH@:@LINE@: [plan] format: the plan has format 3, but this dermaroll reads format 1." },
	{ "no-plan-group", "[plan]\n", "[plans]\n",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the group [plan] is missing." },
	{ "needle-not-number", "needle_mm = 0.5\n", "needle_mm = half\n",
	  POLICY_ERROR_VALUE, "needle_mm = half",
	  "@PATH@:@LINE@: [rule forehead] needle_mm: “half” is not a number of mm from 0.001 to 99.999 (at most 3 decimals)." },
	{ "needle-zero", "needle_mm = 0.5\n", "needle_mm = 0\n",
	  POLICY_ERROR_VALUE, "needle_mm = 0\n",
	  "@PATH@:@LINE@: [rule forehead] needle_mm: “0” is not a number of mm from 0.001 to 99.999 (at most 3 decimals)." },
	{ "interval-negative", "interval_days = 42", "interval_days = -42",
	  POLICY_ERROR_VALUE, "-42",
	  "@PATH@:@LINE@: [rule cheek] interval_days: “-42” is not a whole number from 1 to 3650." },
	{ "interval-missing", "interval_days = 42\n", "",
	  POLICY_ERROR_MISSING, "[rule cheek]",
	  "@PATH@:@LINE@: [rule cheek]: the key “interval_days” (or “interval_hours”) is missing." },
	{ "interval-both", "interval_days = 42\n", "interval_days = 42\ninterval_hours = 100\n",
	  POLICY_ERROR_VALUE, "interval_hours = 100",
	  "@PATH@:@LINE@: [rule cheek] interval_hours: give interval_days or interval_hours, not both." },
	{ "unknown-zone", "zone = scalp", "zone = eyelids",
	  POLICY_ERROR_VALUE, "eyelids",
	  "@PATH@:@LINE@: [rule scalp] zone: “eyelids” is not a zone; the zones are forehead, left-cheek, right-cheek, nose, chin, upper-lip, neck, decolletage, hands, scalp." },
	{ "needle-1.5", "needle_mm = 1.2", "needle_mm = 1.5",
	  POLICY_ERROR_FORBIDDEN, "needle_mm = 1.5",
	  "@PATH@:@LINE@: [rule cheek] needle_mm: needles of 1.50 mm or longer are never allowed at home, and a plan cannot change that." },
	{ "needle-2.0", "needle_mm = 0.75", "needle_mm = 2.0",
	  POLICY_ERROR_FORBIDDEN, "needle_mm = 2.0",
	  "@PATH@:@LINE@: [rule scalp] needle_mm: needles of 1.50 mm or longer are never allowed at home, and a plan cannot change that." },
	{ "duplicate-rule", "zone = neck\nneedle_mm = 0.250", "zone = Forehead\nneedle_mm = 0.500",
	  POLICY_ERROR_VALUE, "zone = Forehead\nneedle_mm = 0.500",
	  "@PATH@:@LINE@: [rule neck] zone: [rule forehead] already sets this zone and needle length." },
	{ "unknown-group", "[rule neck]", "[notes]",
	  POLICY_ERROR_UNKNOWN, "[notes]",
	  "@PATH@:@LINE@: [notes]: a plan has only [plan] and [rule …] groups." },
	{ "unknown-key", "interval_days = 14\n\n[rule scalp]", "interval_days = 14\nexpires = 2026-01-01\n\n[rule scalp]",
	  POLICY_ERROR_UNKNOWN, "expires",
	  "@PATH@:@LINE@: [rule forehead] expires: this key is not part of the format." },
	{ "duplicate-key", "zone = neck\n", "zone = neck\nzone = chin\n",
	  POLICY_ERROR_SYNTAX, "zone = chin",
	  "@PATH@:@LINE@: [rule neck] zone: the key appears twice in this group." },
	{ "garbage-line", "[rule neck]\n", "[rule neck]\nrest one week\n",
	  POLICY_ERROR_SYNTAX, "rest one week",
	  "@PATH@:@LINE@: “rest one week” is not a key = value line, a [group] or a # comment." },
	{ "dermatologist-control", "Dr. A. Example", "Dr.\\nA. Example",
	  POLICY_ERROR_VALUE, "dermatologist =",
	  "@PATH@:@LINE@: [plan] dermatologist: the text contains a control character." },
	{ "no-rules", NULL,
	  "[plan]\nformat = 1\ndermatologist = Dr. B\nsigned = 2025-01-02\n",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the plan has no [rule …] group." },
	{ "empty-file", NULL, "",
	  POLICY_ERROR_MISSING, NULL,
	  "@PATH@: the group [plan] is missing." },
	{ "not-utf8", NULL, "[plan]\nformat = 1\ndermatologist = Dr. \xc3\x28\n",
	  POLICY_ERROR_SYNTAX, "dermatologist",
	  "@PATH@:@LINE@: the text is not valid UTF-8." },
};

static void test_robustness_plans(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_plans); i++) {
		const struct bad_file *c = &bad_plans[i];
		g_autofree char *text = c->from ?
			replace_once(plan_text, c->from, c->to) :
			g_strdup(c->to);
		g_autofree char *name = g_strdup_printf("plan-%s.conf",
							c->name);
		g_autofree char *path = write_bad(name, text);
		g_autofree char *want = expected_message(c, path, text);
		g_autoptr(GError) error = NULL;
		struct plan *plan;

		g_test_message("plan case %s", c->name);
		plan = plan_load(policy, path, &error);
		g_assert_null(plan);
		g_assert_error(error, POLICY_ERROR, c->code);
		g_assert_cmpstr(error->message, ==, want);
		g_unlink(path);
	}

	{
		g_autofree char *path = g_build_filename(tmpdir, "no-plan.conf",
							 NULL);
		g_autoptr(GError) error = NULL;

		g_assert_null(plan_load(policy, path, &error));
		g_assert_error(error, POLICY_ERROR, POLICY_ERROR_READ);
		g_assert_true(g_str_has_prefix(error->message, path));
	}
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int ret;

	g_test_init(&argc, &argv, NULL);

	policy = policy_load_default(&error);
	g_assert_no_error(error);
	checklist_clear(&clear_checklist);
	tmpdir = g_dir_make_tmp("test-policy-XXXXXX", &error);
	g_assert_no_error(error);

	g_test_add_func("/policy/table/loads", test_table_loads);
	g_test_add_func("/policy/table/default-path", test_default_path);
	g_test_add_func("/policy/interval/rows", test_interval_rows);
	g_test_add_func("/policy/interval/messages", test_interval_messages);
	g_test_add_func("/policy/clock/rollback", test_clock_rollback);
	g_test_add_func("/policy/head/wear", test_head_wear);
	g_test_add_func("/policy/head/verdicts", test_head_verdicts);
	g_test_add_func("/policy/checklist/each-item",
			test_checklist_each_item);
	g_test_add_func("/policy/checklist/zones", test_checklist_zones);
	g_test_add_func("/policy/checklist/missing", test_checklist_missing);
	g_test_add_func("/policy/checklist/robustness/bad-answer",
			test_checklist_robustness);
	g_test_add_func("/policy/override/reasons", test_override_reasons);
	g_test_add_func("/policy/override/locks", test_override_locks);
	g_test_add_func("/policy/override/never-long-needles",
			test_override_never_long_needles);
	g_test_add_func("/policy/plan/file", test_plan_file);
	g_test_add_func("/policy/plan/verdicts", test_plan_verdicts);
	g_test_add_func("/policy/passes", test_passes);
	g_test_add_func("/policy/pressure", test_pressure);
	g_test_add_func("/policy/reason-names", test_reason_names);
	g_test_add_func("/policy/robustness/bad-queries",
			test_robustness_bad_queries);
	g_test_add_func("/policy/robustness/tables", test_robustness_tables);
	g_test_add_func("/policy/robustness/table-read",
			test_robustness_table_read);
	g_test_add_func("/policy/robustness/table-variants",
			test_robustness_table_variants);
	g_test_add_func("/policy/robustness/plans", test_robustness_plans);

	ret = g_test_run();

	g_rmdir(tmpdir);
	g_free(tmpdir);
	policy_free(policy);
	return ret;
}
