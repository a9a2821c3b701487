/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sensor model (dp/model.h): samples from a plan of strokes.
 */
#include <glib.h>
#include <string.h>

#include "dp/model.h"

#define MAX_SAMPLES 20000

struct run {
	struct dp_sample s[MAX_SAMPLES];
	guint n;
	guint64 end_ms;
};

static void roll_plan(const struct dp_model_config *cfg, const struct dp_stroke *plan,
		      gsize len, guint64 start_ms, struct run *r)
{
	struct dp_model m;

	dp_model_init(&m, cfg, plan, len, start_ms);
	r->n = 0;
	while (dp_model_next(&m, &r->s[r->n])) {
		g_assert_cmpuint(r->n, <, MAX_SAMPLES - 1);
		r->n++;
	}
	g_assert_true(dp_model_done(&m));
	r->end_ms = dp_model_time(&m);
}

static struct dp_stroke roll(guint8 dir, guint8 angle, guint16 mm, guint16 speed, guint16 force)
{
	return (struct dp_stroke) {
		.kind = DP_STROKE_ROLL, .zone = DP_ZONE_FOREHEAD, .direction = dir,
		.angle_deg = angle, .distance_mm = mm, .speed_mm_s = speed, .force_cn = force,
	};
}

static void test_deterministic(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = {
		roll(DP_DIR_FORWARD, 90, 40, 60, 250),
		{ .kind = DP_STROKE_PAUSE, .duration_ms = 500 },
		roll(DP_DIR_BACKWARD, 45, 30, 50, 300),
	};
	g_autofree struct run *a = g_new0(struct run, 1);
	g_autofree struct run *b = g_new0(struct run, 1);
	guint force_diff = 0;

	dp_model_config_default(&cfg);
	cfg.seed = 42;
	roll_plan(&cfg, plan, G_N_ELEMENTS(plan), 1000, a);
	roll_plan(&cfg, plan, G_N_ELEMENTS(plan), 1000, b);
	g_assert_cmpuint(a->n, ==, b->n);
	g_assert_cmpmem(a->s, a->n * sizeof(a->s[0]), b->s, b->n * sizeof(b->s[0]));

	cfg.seed = 43;
	roll_plan(&cfg, plan, G_N_ELEMENTS(plan), 1000, b);
	g_assert_cmpuint(a->n, ==, b->n);
	for (guint i = 0; i < a->n; i++) {
		/* Only the noise differs: time and drum travel are the plan's. */
		g_assert_cmpuint(a->s[i].t_ms, ==, b->s[i].t_ms);
		g_assert_cmpint(a->s[i].encoder, ==, b->s[i].encoder);
		force_diff += a->s[i].force_raw_cn != b->s[i].force_raw_cn;
	}
	g_assert_cmpuint(force_diff, >, a->n / 2);
}

static void test_sample_grid(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 90, 40, 60, 250) };
	g_autofree struct run *r = g_new0(struct run, 1);

	dp_model_config_default(&cfg);
	for (guint8 period = 5; period <= 10; period += 5) {
		cfg.period_ms = period;
		roll_plan(&cfg, plan, 1, 7, r);
		for (guint i = 0; i < r->n; i++)
			g_assert_cmpuint(r->s[i].t_ms, ==, 7 + (guint64)i * period);
		g_assert_cmpuint(r->end_ms, ==, 7 + (guint64)r->n * period);
	}
}

/* Encoder ticks follow the distance rolled and the calibration. */
static void test_encoder_ticks(void)
{
	static const struct {
		guint8 dir;
		guint16 mm, ticks_per_10mm;
		gint32 end;
	} cases[] = {
		{ DP_DIR_FORWARD, 40, 40, 160 },
		{ DP_DIR_BACKWARD, 40, 40, -160 },
		{ DP_DIR_FORWARD, 25, 40, 100 },
		{ DP_DIR_FORWARD, 40, 37, 148 },
		{ DP_DIR_BACKWARD, 13, 55, -72 },   /* 71.5 rounds away from zero */
		{ DP_DIR_FORWARD, 500, 40, 2000 },
	};
	g_autofree struct run *r = g_new0(struct run, 1);

	for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
		struct dp_model_config cfg;
		struct dp_stroke plan[] = { roll(cases[c].dir, 0, cases[c].mm, 100, 250) };
		gint32 prev = 0;

		dp_model_config_default(&cfg);
		cfg.ticks_per_10mm = cases[c].ticks_per_10mm;
		roll_plan(&cfg, plan, 1, 0, r);
		g_assert_cmpint(r->s[0].encoder, ==, 0);
		g_assert_cmpint(r->s[r->n - 1].encoder, ==, cases[c].end);
		/* Monotonic, in the stroke's direction. */
		for (guint i = 0; i < r->n; i++) {
			if (cases[c].dir == DP_DIR_FORWARD)
				g_assert_cmpint(r->s[i].encoder, >=, prev);
			else
				g_assert_cmpint(r->s[i].encoder, <=, prev);
			prev = r->s[i].encoder;
		}
	}
}

/* Speed sets how long the drum turns: distance / speed. */
static void test_speed(void)
{
	static const struct { guint16 mm, speed; guint moving_ms; } cases[] = {
		{ 40, 40, 1000 }, { 40, 80, 500 }, { 60, 30, 2000 }, { 20, 100, 200 },
	};
	g_autofree struct run *r = g_new0(struct run, 1);

	for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
		struct dp_model_config cfg;
		struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 0, cases[c].mm, cases[c].speed, 250) };
		gint64 first = -1, last = -1;

		dp_model_config_default(&cfg);
		roll_plan(&cfg, plan, 1, 0, r);
		for (guint i = 0; i < r->n; i++) {
			if (r->s[i].encoder > 0 && first < 0)
				first = (gint64)r->s[i - 1].t_ms;
			if (r->s[i].encoder == cases[c].mm * 4 && last < 0)
				last = (gint64)r->s[i].t_ms;
		}
		/* The drum moves from settle_ms to settle_ms + distance/speed. */
		g_assert_cmpint(first, ==, cfg.settle_ms);
		g_assert_cmpint(last - first, ==, cases[c].moving_ms);
		g_assert_cmpuint(dp_model_plan_ms(&cfg, plan, 1), ==,
				 cfg.settle_ms * 2 + cases[c].moving_ms + cfg.gap_ms);
	}
}

/* Force ramps over settle_ms at contact and at lift, holds the target with
 * bounded noise while rolling, and the roller rests lifted after. */
static void test_force_profile(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 90, 40, 80, 300) };
	g_autofree struct run *r = g_new0(struct run, 1);
	guint settle_n, roll_end_n;
	guint lifted = 0;

	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, 1, 0, r);
	settle_n = cfg.settle_ms / cfg.period_ms;
	/* 40 ms ramp then 500 ms of rolling. */
	roll_end_n = settle_n + 500 / cfg.period_ms;

	g_assert_cmpuint(r->s[0].force_raw_cn, <=, 2);
	for (guint i = 1; i < settle_n; i++) {
		double expect = 300.0 * i / settle_n;

		g_assert_cmpfloat(r->s[i].force_raw_cn, >=, expect - cfg.force_noise_cn - 1);
		g_assert_cmpfloat(r->s[i].force_raw_cn, <=, expect + cfg.force_noise_cn + 1);
	}
	for (guint i = settle_n; i <= roll_end_n; i++) {
		g_assert_cmpuint(r->s[i].force_raw_cn, >=, 300 - cfg.force_noise_cn);
		g_assert_cmpuint(r->s[i].force_raw_cn, <=, 300 + cfg.force_noise_cn);
	}
	for (guint i = roll_end_n + 1; i < roll_end_n + settle_n; i++) {
		double expect = 300.0 * (roll_end_n + settle_n - i) / settle_n;

		g_assert_cmpfloat(r->s[i].force_raw_cn, >=, expect - cfg.force_noise_cn - 1);
		g_assert_cmpfloat(r->s[i].force_raw_cn, <=, expect + cfg.force_noise_cn + 1);
	}
	for (guint i = roll_end_n + settle_n; i < r->n; i++) {
		g_assert_cmpuint(r->s[i].force_raw_cn, <=, 2);
		g_assert_cmpint(r->s[i].encoder, ==, 160);
		lifted++;
	}
	g_assert_cmpuint(lifted * cfg.period_ms, ==, cfg.gap_ms);
}

static void test_force_bias(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 90, 20, 80, 200) };
	g_autofree struct run *r = g_new0(struct run, 1);

	dp_model_config_default(&cfg);
	cfg.force_bias_cn = 35;
	cfg.force_noise_cn = 0;
	roll_plan(&cfg, plan, 1, 0, r);
	g_assert_cmpuint(r->s[0].force_raw_cn, >=, 35);
	g_assert_cmpuint(r->s[0].force_raw_cn, <=, 37);
	g_assert_cmpuint(r->s[20].force_raw_cn, ==, 235);
	g_assert_cmpuint(r->s[r->n - 1].force_raw_cn, >=, 35);
	g_assert_cmpuint(r->s[r->n - 1].force_raw_cn, <=, 37);
}

/* Between strokes the roller is lifted: force 0 and the drum still. */
static void test_lifted_between_strokes(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = {
		roll(DP_DIR_FORWARD, 90, 30, 60, 250),
		roll(DP_DIR_FORWARD, 90, 30, 60, 250),
		roll(DP_DIR_BACKWARD, 0, 30, 60, 250),
	};
	g_autofree struct run *r = g_new0(struct run, 1);
	guint contacts = 0, longest_gap = 0, gap = 0;
	gboolean in_contact = FALSE;

	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, G_N_ELEMENTS(plan), 0, r);
	for (guint i = 0; i < r->n; i++) {
		gboolean c = r->s[i].force_raw_cn >= 30;

		if (c && !in_contact)
			contacts++;
		if (!c && r->s[i].force_raw_cn <= 2)
			gap++;
		else
			gap = 0;
		if (contacts < 3)
			longest_gap = MAX(longest_gap, gap);
		in_contact = c;
	}
	g_assert_cmpuint(contacts, ==, 3);
	g_assert_cmpuint(longest_gap * cfg.period_ms, >=, cfg.gap_ms);
	g_assert_cmpint(r->s[r->n - 1].encoder, ==, 120);
}

static void test_pause(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { { .kind = DP_STROKE_PAUSE, .duration_ms = 800 } };
	g_autofree struct run *r = g_new0(struct run, 1);

	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, 1, 100, r);
	g_assert_cmpuint(r->n, ==, 160);
	g_assert_cmpuint(r->end_ms, ==, 900);
	for (guint i = 0; i < r->n; i++) {
		g_assert_cmpuint(r->s[i].force_raw_cn, <=, 2);
		g_assert_cmpint(r->s[i].encoder, ==, 0);
	}
}

/* A lift mid-roll: force falls to nothing at lift_at_mm, stays off for
 * lift_ms, and the roll goes on from where it was. */
static void test_lift_mid_roll(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 90, 40, 50, 250) };
	g_autofree struct run *r = g_new0(struct run, 1);
	guint lifted_mid = 0, contacts = 0;
	gboolean in_contact = FALSE;

	plan[0].lift_at_mm = 15;
	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, 1, 0, r);
	for (guint i = 0; i < r->n; i++) {
		gboolean c = r->s[i].force_raw_cn >= 30;

		if (c && !in_contact)
			contacts++;
		in_contact = c;
		if (contacts == 1 && r->s[i].force_raw_cn <= 2) {
			g_assert_cmpint(r->s[i].encoder, ==, 60);
			lifted_mid++;
		}
	}
	g_assert_cmpuint(contacts, ==, 2);
	g_assert_cmpuint(lifted_mid * cfg.period_ms, >=, cfg.lift_ms);
	g_assert_cmpuint(lifted_mid * cfg.period_ms, <=, cfg.lift_ms + cfg.settle_ms);
	g_assert_cmpint(r->s[r->n - 1].encoder, ==, 160);
	g_assert_cmpuint(dp_stroke_passes(&plan[0]), ==, 2);
}

/* A hesitation: the drum stops at hesitate_at_mm for hesitate_ms while the
 * hand keeps pressing. */
static void test_hesitation(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_BACKWARD, 90, 40, 50, 250) };
	g_autofree struct run *r = g_new0(struct run, 1);
	guint still = 0;

	plan[0].hesitate_at_mm = 10;
	plan[0].hesitate_ms = 300;
	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, 1, 0, r);
	for (guint i = 0; i < r->n; i++) {
		if (r->s[i].encoder == -40) {
			g_assert_cmpuint(r->s[i].force_raw_cn, >=, 250 - cfg.force_noise_cn);
			still++;
		}
	}
	/* 300 ms held, plus the sample where the drum arrived. */
	g_assert_cmpuint(still * cfg.period_ms, ==, 300 + cfg.period_ms);
	g_assert_cmpint(r->s[r->n - 1].encoder, ==, -160);
	g_assert_cmpuint(dp_model_plan_ms(&cfg, plan, 1), ==, 40 + 800 + 300 + 40 + 300);
	g_assert_cmpuint(dp_stroke_passes(&plan[0]), ==, 1);
}

/* Both on one stroke: events happen in distance order. */
static void test_hesitate_and_lift(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 45, 40, 50, 250) };
	g_autofree struct run *r = g_new0(struct run, 1);
	gint32 first_lift = -1;
	guint still_at_30 = 0;

	plan[0].lift_at_mm = 10;
	plan[0].hesitate_at_mm = 30;
	plan[0].hesitate_ms = 200;
	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, 1, 0, r);
	for (guint i = 1; i < r->n; i++) {
		if (first_lift < 0 && r->s[i].force_raw_cn <= 2)
			first_lift = r->s[i].encoder;
		if (r->s[i].encoder == 120 && r->s[i].force_raw_cn >= 200)
			still_at_30++;
	}
	g_assert_cmpint(first_lift, ==, 40);
	g_assert_cmpuint(still_at_30 * cfg.period_ms, ==, 200 + cfg.period_ms);
}

/* Back and forth: out, a short turn in contact, straight back, one lift. */
static void test_back_and_forth(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, 0, 30, 60, 250) };
	g_autofree struct run *r = g_new0(struct run, 1);
	gint32 peak = 0;
	guint peak_i = 0, contacts = 0;
	gboolean in_contact = FALSE;

	plan[0].kind = DP_STROKE_BACK_AND_FORTH;
	dp_model_config_default(&cfg);
	roll_plan(&cfg, plan, 1, 0, r);
	for (guint i = 0; i < r->n; i++) {
		gboolean c = r->s[i].force_raw_cn >= 30;

		if (c && !in_contact)
			contacts++;
		in_contact = c;
		if (r->s[i].encoder > peak) {
			peak = r->s[i].encoder;
			peak_i = i;
		}
	}
	g_assert_cmpint(peak, ==, 120);
	g_assert_cmpuint(contacts, ==, 1);
	/* Pressed through the turn. */
	for (guint i = peak_i; i < peak_i + cfg.turn_ms / cfg.period_ms; i++)
		g_assert_cmpuint(r->s[i].force_raw_cn, >=, 250 - cfg.force_noise_cn);
	g_assert_cmpint(r->s[r->n - 1].encoder, ==, 0);
	g_assert_cmpuint(dp_stroke_passes(&plan[0]), ==, 2);
}

/* Angle noise stays within its amplitude and wraps at 180. */
static void test_angle_noise(void)
{
	static const guint8 angles[] = { 0, 45, 90, 179 };
	g_autofree struct run *r = g_new0(struct run, 1);

	for (guint c = 0; c < G_N_ELEMENTS(angles); c++) {
		struct dp_model_config cfg;
		struct dp_stroke plan[] = { roll(DP_DIR_FORWARD, angles[c], 40, 60, 250) };
		guint seen_other = 0;

		dp_model_config_default(&cfg);
		cfg.angle_noise_deg = 4;
		roll_plan(&cfg, plan, 1, 0, r);
		for (guint i = 0; i < r->n; i++) {
			gint d = (gint)r->s[i].angle_deg - angles[c];

			g_assert_cmpuint(r->s[i].angle_deg, <, 180);
			if (d > 90)
				d -= 180;
			if (d < -90)
				d += 180;
			g_assert_cmpint(ABS(d), <=, 4);
			seen_other += d != 0;
		}
		g_assert_cmpuint(seen_other, >, 0);
	}
}

static void test_plan_ms(void)
{
	struct dp_model_config cfg;
	struct dp_stroke plan[] = {
		roll(DP_DIR_FORWARD, 90, 37, 61, 250),
		{ .kind = DP_STROKE_PAUSE, .duration_ms = 333 },
		roll(DP_DIR_BACKWARD, 0, 23, 47, 520),
		{ .kind = DP_STROKE_PAUSE, .duration_ms = 1 },
		roll(DP_DIR_FORWARD, 45, 50, 90, 300),
	};
	g_autofree struct run *r = g_new0(struct run, 1);

	plan[4].kind = DP_STROKE_BACK_AND_FORTH;
	plan[4].lift_at_mm = 20;
	dp_model_config_default(&cfg);
	for (gsize len = 1; len <= G_N_ELEMENTS(plan); len++) {
		roll_plan(&cfg, plan, len, 50, r);
		g_assert_cmpuint(r->end_ms - 50, ==, dp_model_plan_ms(&cfg, plan, len));
		g_assert_cmpuint(r->n * cfg.period_ms, ==, dp_model_plan_ms(&cfg, plan, len));
	}
	g_assert_cmpuint(dp_model_plan_ms(&cfg, NULL, 0), ==, 0);
}

/* load / end_after_stroke / step / skip keep time and drum continuous. */
static void test_continuity(void)
{
	struct dp_model_config cfg;
	struct dp_stroke a[] = { roll(DP_DIR_FORWARD, 90, 20, 50, 250),
				 roll(DP_DIR_FORWARD, 90, 20, 50, 250) };
	struct dp_stroke b[] = { roll(DP_DIR_FORWARD, 0, 10, 50, 250) };
	struct dp_model m;
	struct dp_sample s;
	guint n = 0;

	dp_model_config_default(&cfg);
	dp_model_init(&m, &cfg, NULL, 0, 0);
	g_assert_true(dp_model_done(&m));
	g_assert_false(dp_model_next(&m, &s));
	dp_model_step(&m, &s);
	g_assert_cmpuint(s.t_ms, ==, 0);
	g_assert_cmpuint(s.force_raw_cn, <=, 2);
	dp_model_skip(&m, 1000);
	g_assert_cmpuint(dp_model_time(&m), ==, 1005);

	dp_model_load(&m, a, G_N_ELEMENTS(a));
	g_assert_false(dp_model_done(&m));
	/* Ending "after the stroke in progress" before it began rolls nothing. */
	g_assert_cmpuint(dp_model_end_after_stroke(&m), ==, 0);
	g_assert_true(dp_model_done(&m));

	dp_model_load(&m, a, G_N_ELEMENTS(a));
	g_assert_true(dp_model_next(&m, &s));
	g_assert_cmpuint(s.t_ms, ==, 1005);
	g_assert_cmpuint(dp_model_end_after_stroke(&m), ==, 1);
	while (dp_model_next(&m, &s))
		n++;
	g_assert_cmpint(s.encoder, ==, 80);
	g_assert_cmpuint(n + 1, ==, dp_model_plan_ms(&cfg, a, 1) / cfg.period_ms);

	/* Resting samples keep the drum where it stopped. */
	dp_model_step(&m, &s);
	g_assert_cmpint(s.encoder, ==, 80);
	dp_model_load(&m, b, 1);
	while (dp_model_next(&m, &s))
		;
	g_assert_cmpint(s.encoder, ==, 120);
}

static void test_stroke_passes(void)
{
	static const struct { guint8 kind; guint16 lift_at; guint passes; } cases[] = {
		{ DP_STROKE_ROLL, 0, 1 },
		{ DP_STROKE_ROLL, 20, 2 },
		{ DP_STROKE_ROLL, 40, 1 },   /* at the end: not mid-roll */
		{ DP_STROKE_BACK_AND_FORTH, 0, 2 },
		{ DP_STROKE_BACK_AND_FORTH, 10, 3 },
		{ DP_STROKE_PAUSE, 0, 0 },
	};

	for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
		struct dp_stroke s = roll(DP_DIR_FORWARD, 0, 40, 50, 250);

		s.kind = cases[c].kind;
		s.lift_at_mm = cases[c].lift_at;
		g_assert_cmpuint(dp_stroke_passes(&s), ==, cases[c].passes);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/model/deterministic", test_deterministic);
	g_test_add_func("/model/sample-grid", test_sample_grid);
	g_test_add_func("/model/encoder-ticks", test_encoder_ticks);
	g_test_add_func("/model/speed", test_speed);
	g_test_add_func("/model/force-profile", test_force_profile);
	g_test_add_func("/model/force-bias", test_force_bias);
	g_test_add_func("/model/lifted-between-strokes", test_lifted_between_strokes);
	g_test_add_func("/model/pause", test_pause);
	g_test_add_func("/model/lift-mid-roll", test_lift_mid_roll);
	g_test_add_func("/model/hesitation", test_hesitation);
	g_test_add_func("/model/hesitate-and-lift", test_hesitate_and_lift);
	g_test_add_func("/model/back-and-forth", test_back_and_forth);
	g_test_add_func("/model/angle-noise", test_angle_noise);
	g_test_add_func("/model/plan-ms", test_plan_ms);
	g_test_add_func("/model/continuity", test_continuity);
	g_test_add_func("/model/stroke-passes", test_stroke_passes);
	return g_test_run();
}
