/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pass detection (PROTOCOL.md §11.2) on synthetic sample streams: exact
 * figures, every end condition, and the thresholds at their boundaries.
 */
#include <glib.h>
#include <string.h>

#include "dp/firmware.h"
#include "dp/pass-detect.h"

#define PERIOD 5

/* A hand on the roller, one 5 ms sample per step. */
struct hand {
	struct dp_detector d;
	uint64_t t;
	int32_t enc;
	uint16_t force;
	uint8_t angle;
	struct dp_detected got[32];
	guint n;
	uint64_t ended_at[32];       /* sample time at which each pass was reported */
};

static void hand_init(struct hand *h)
{
	struct dp_fw_config cfg;

	memset(h, 0, sizeof(*h));
	dp_fw_config_default(&cfg);
	dp_detect_init(&h->d, &cfg.detect);
	h->t = 1000;
	h->angle = 90;
}

static void hand_step(struct hand *h, int32_t dticks)
{
	struct dp_detected p;

	h->t += PERIOD;
	h->enc += dticks;
	if (dp_detect_feed(&h->d, h->t, h->enc, h->force, h->angle, &p)) {
		g_assert_cmpuint(h->n, <, G_N_ELEMENTS(h->got));
		h->ended_at[h->n] = h->t;
		h->got[h->n++] = p;
	}
}

static void hand_run(struct hand *h, guint steps, int32_t dticks)
{
	for (guint i = 0; i < steps; i++)
		hand_step(h, dticks);
}

/* Press down at `force` and stand still for `steps` samples. */
static void hand_press(struct hand *h, uint16_t force, guint steps)
{
	h->force = force;
	hand_run(h, steps, 0);
}

static void hand_lift(struct hand *h, guint steps)
{
	h->force = 0;
	hand_run(h, steps, 0);
}

static void test_defaults(void)
{
	struct dp_fw_config cfg;

	dp_fw_config_default(&cfg);
	g_assert_cmpuint(cfg.detect.contact_cn, ==, 30);
	g_assert_cmpuint(cfg.detect.release_cn, ==, 20);
	g_assert_cmpuint(cfg.detect.lift_ms, ==, 40);
	g_assert_cmpuint(cfg.detect.reversal_ticks, ==, 3);
	g_assert_cmpuint(cfg.detect.stall_ms, ==, 800);
	g_assert_cmpuint(cfg.detect.min_distance_mm, ==, 8);
	g_assert_cmpuint(cfg.detect.warn_cn, ==, 500);
	g_assert_cmpuint(cfg.detect.ticks_per_10mm, ==, 40);
}

static void test_forward_lift(void)
{
	struct hand h;
	uint64_t still_at, lift_at;

	hand_init(&h);
	hand_press(&h, 150, 10);
	still_at = h.t;
	hand_run(&h, 80, 1);           /* 80 ticks = 20 mm in 400 ms */
	g_assert_cmpuint(h.n, ==, 0);
	hand_lift(&h, 1);
	lift_at = h.t;
	/* Reported once force stayed below release for lift_ms, not before. */
	hand_lift(&h, 7);
	g_assert_cmpuint(h.n, ==, 0);
	hand_lift(&h, 1);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.ended_at[0], ==, lift_at + 40);

	g_assert_cmpuint(h.got[0].start_ms, ==, still_at);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 400);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 20);
	g_assert_cmpuint(h.got[0].direction, ==, DP_DIR_FORWARD);
	g_assert_cmpuint(h.got[0].angle_deg, ==, 90);
	g_assert_cmpuint(h.got[0].mean_force_cn, ==, 150);
	g_assert_cmpuint(h.got[0].peak_force_cn, ==, 150);
	g_assert_cmpuint(h.got[0].over_warn_ms, ==, 0);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_LIFT);
	g_assert_false(dp_detect_in_contact(&h.d));

	hand_lift(&h, 100);
	g_assert_cmpuint(h.n, ==, 1);
}

static void test_backward(void)
{
	struct hand h;

	hand_init(&h);
	h.angle = 0;
	hand_press(&h, 200, 3);
	hand_run(&h, 50, -2);          /* 100 ticks = 25 mm */
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].direction, ==, DP_DIR_BACKWARD);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 25);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 250);
	g_assert_cmpuint(h.got[0].angle_deg, ==, 0);
}

/* Distance rounds to the nearest mm; min_distance_mm is compared exactly. */
static const struct {
	int32_t ticks;
	bool counted;
	uint16_t mm;
} distance_cases[] = {
	{ 1, false, 0 },
	{ 31, false, 0 },              /* 7.75 mm */
	{ 32, true, 8 },               /* 8.00 mm: exactly the minimum */
	{ 33, true, 8 },               /* 8.25 */
	{ 34, true, 9 },               /* 8.5 rounds up */
	{ 41, true, 10 },
	{ 4000, true, 1000 },
};

static void test_min_distance(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(distance_cases); i++) {
		struct hand h;

		hand_init(&h);
		hand_press(&h, 100, 2);
		hand_run(&h, distance_cases[i].ticks, 1);
		hand_lift(&h, 20);
		g_assert_cmpuint(h.n, ==, distance_cases[i].counted ? 1 : 0);
		if (h.n)
			g_assert_cmpuint(h.got[0].distance_mm, ==, distance_cases[i].mm);
	}
}

/* A rising ramp: mean and peak exactly, and samples outside the pass (the
 * press before rolling, the lift after it) are not counted. */
static void test_ramp_figures(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 900, 5);        /* a hard press standing still: not in the pass */
	for (guint i = 0; i < 80; i++) {
		h.force = (uint16_t)(100 + i);
		hand_step(&h, 1);
	}
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	/* (100 + 179) / 2 = 139.5, rounded half up. */
	g_assert_cmpuint(h.got[0].mean_force_cn, ==, 140);
	g_assert_cmpuint(h.got[0].peak_force_cn, ==, 179);
	g_assert_cmpuint(h.got[0].over_warn_ms, ==, 0);

	/* A falling ramp 300..221: mean 260.5 -> 261, peak the first sample. */
	hand_init(&h);
	hand_press(&h, 40, 5);
	for (guint i = 0; i < 80; i++) {
		h.force = (uint16_t)(300 - i);
		hand_step(&h, 1);
	}
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].mean_force_cn, ==, 261);
	g_assert_cmpuint(h.got[0].peak_force_cn, ==, 300);
}

/* Too hard: over_warn_ms is the sum of the periods of the samples strictly
 * above warn_cn (500). */
static void test_over_warn(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 400, 3);
	hand_run(&h, 20, 1);
	h.force = 500;                 /* at the threshold: not over */
	hand_run(&h, 10, 1);
	h.force = 650;
	hand_run(&h, 30, 1);           /* 150 ms over */
	h.force = 400;
	hand_run(&h, 20, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 400);
	g_assert_cmpuint(h.got[0].over_warn_ms, ==, 150);
	g_assert_cmpuint(h.got[0].peak_force_cn, ==, 650);
	/* (20*400 + 10*500 + 30*650 + 20*400) / 80 = 506.25 */
	g_assert_cmpuint(h.got[0].mean_force_cn, ==, 506);

	/* Over the whole pass: over_warn_ms == duration_ms. */
	hand_init(&h);
	hand_press(&h, 800, 3);
	hand_run(&h, 60, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].over_warn_ms, ==, 300);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 300);
}

/* Orientation is an axis: it wraps at 180 degrees. */
static const struct {
	const char *name;
	uint8_t a, b;                  /* alternating sample angles */
	uint8_t mean;
} angle_cases[] = {
	{ "same", 45, 45, 45 },
	{ "wrap-178-2", 178, 2, 0 },
	{ "wrap-179-1", 179, 1, 0 },
	{ "wrap-170-20", 170, 20, 5 },
	{ "wrap-175-5", 175, 5, 0 },
	{ "plain-80-100", 80, 100, 90 },
	{ "plain-30-60", 30, 60, 45 },
	{ "wrap-150-10", 150, 10, 170 },
	{ "max", 179, 179, 179 },
	{ "zero", 0, 0, 0 },
	{ "out-of-range-input", 200, 20, 20 }, /* 200 is 20 mod 180 */
};

static void test_mean_angle(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(angle_cases); i++) {
		struct hand h;

		hand_init(&h);
		hand_press(&h, 100, 2);
		for (guint k = 0; k < 80; k++) {
			h.angle = k % 2 ? angle_cases[i].b : angle_cases[i].a;
			hand_step(&h, 1);
		}
		hand_lift(&h, 20);
		g_assert_cmpuint(h.n, ==, 1);
		if (h.got[0].angle_deg != angle_cases[i].mean)
			g_test_message("case %s", angle_cases[i].name);
		g_assert_cmpuint(h.got[0].angle_deg, ==, angle_cases[i].mean);
	}
}

/* Lifted mid-roll: the pass ends; the roll after setting down is a new pass
 * if it is long enough. */
static void test_lift_mid_pass(void)
{
	struct hand h;
	uint64_t down_at;

	hand_init(&h);
	hand_press(&h, 120, 2);
	hand_run(&h, 60, 1);           /* 15 mm */
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 15);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_LIFT);

	h.force = 120;
	hand_step(&h, 0);
	down_at = h.t;
	hand_run(&h, 48, 1);           /* 12 mm */
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 2);
	g_assert_cmpuint(h.got[1].start_ms, ==, down_at);
	g_assert_cmpuint(h.got[1].distance_mm, ==, 12);
	g_assert_cmpuint(h.got[1].direction, ==, DP_DIR_FORWARD);

	/* The rest after setting down is too short: no second pass. */
	h.force = 120;
	hand_run(&h, 1, 0);
	hand_run(&h, 20, 1);           /* 5 mm */
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 2);
}

/* Set down while the drum still turns: rolling starts counting only from
 * the contact sample. */
static void test_touch_down_rolling(void)
{
	struct hand h;

	hand_init(&h);
	hand_run(&h, 20, 1);           /* spinning in the air */
	h.force = 100;
	hand_run(&h, 40, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	/* The contact sample is the start: 39 ticks after it. */
	g_assert_cmpuint(h.got[0].duration_ms, ==, 195);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 10);
}

/* A dip below release shorter than lift_ms is not a lift: one pass, and the
 * dip's samples count in its mean. */
static void test_short_dip(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	h.force = 10;
	hand_run(&h, 7, 1);            /* 35 ms < lift_ms */
	h.force = 100;
	hand_run(&h, 33, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 20);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 400);
	/* (73*100 + 7*10) / 80 = 92.125 */
	g_assert_cmpuint(h.got[0].mean_force_cn, ==, 92);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_LIFT);

	/* Exactly lift_ms below release is a lift. */
	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	h.force = 10;
	hand_run(&h, 9, 1);            /* below at t0, still below at t0 + 40 */
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 10);
}

/* Hysteresis: contact from 30 cN, released only below 20. */
static void test_hysteresis(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 29, 2);
	g_assert_false(dp_detect_in_contact(&h.d));
	hand_run(&h, 80, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 0);

	hand_press(&h, 30, 1);
	g_assert_true(dp_detect_in_contact(&h.d));
	h.force = 20;                  /* light, but not released */
	hand_run(&h, 80, 1);
	g_assert_true(dp_detect_in_contact(&h.d));
	h.force = 19;
	hand_step(&h, 0);
	g_assert_false(dp_detect_in_contact(&h.d));
	/* Back to 25 after release: still no contact until 30, so a lift. */
	h.force = 25;
	hand_run(&h, 20, 1);
	g_assert_false(dp_detect_in_contact(&h.d));
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 20);
	g_assert_cmpuint(h.got[0].mean_force_cn, ==, 20);
}

/* Out and back without lifting: two passes, the second from the turn. */
static void test_reversal(void)
{
	struct hand h;
	uint64_t turn;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 60, 1);           /* 15 mm out */
	turn = h.t;
	hand_run(&h, 2, -1);           /* 2 ticks back: jitter, no reversal yet */
	g_assert_cmpuint(h.n, ==, 0);
	hand_step(&h, -1);             /* the third: reversal */
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_REVERSAL);
	g_assert_cmpuint(h.got[0].direction, ==, DP_DIR_FORWARD);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 15);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 300);
	hand_run(&h, 57, -1);          /* 60 ticks back in all */
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 2);
	g_assert_cmpuint(h.got[1].start_ms, ==, turn);
	g_assert_cmpuint(h.got[1].direction, ==, DP_DIR_BACKWARD);
	g_assert_cmpuint(h.got[1].distance_mm, ==, 15);
	g_assert_cmpuint(h.got[1].duration_ms, ==, 300);
	g_assert_cmpuint(h.got[1].end_flags, ==, DP_PASS_END_LIFT);
}

/* Jitter against the pass direction, under reversal_ticks: one pass. */
static void test_reversal_jitter(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	hand_run(&h, 2, -1);
	hand_run(&h, 42, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 20);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 420);
}

/* A pause at the turn belongs to neither pass. */
static void test_reversal_pause(void)
{
	struct hand h;
	uint64_t left;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	hand_press(&h, 700, 20);       /* 100 ms hard and still at the turn */
	left = h.t;
	h.force = 100;
	hand_run(&h, 40, -1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 2);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 200);
	g_assert_cmpuint(h.got[0].peak_force_cn, ==, 100);
	g_assert_cmpuint(h.got[1].start_ms, ==, left);
	g_assert_cmpuint(h.got[1].duration_ms, ==, 200);
	g_assert_cmpuint(h.got[1].peak_force_cn, ==, 100);
	g_assert_cmpuint(h.got[1].over_warn_ms, ==, 0);
}

/* A short first leg is jitter; the way back still counts. */
static void test_reversal_short_leg(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 10, 1);
	hand_run(&h, 60, -1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].direction, ==, DP_DIR_BACKWARD);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 15);
}

/* Several legs back and forth: one pass per leg. */
static void test_back_and_forth(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 100, 2);
	for (guint leg = 0; leg < 6; leg++)
		hand_run(&h, 60, leg % 2 ? -1 : 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 6);
	for (guint i = 0; i < 6; i++) {
		g_assert_cmpuint(h.got[i].direction, ==, i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD);
		g_assert_cmpuint(h.got[i].distance_mm, ==, 15);
		g_assert_cmpuint(h.got[i].end_flags, ==,
				 i == 5 ? DP_PASS_END_LIFT : DP_PASS_END_REVERSAL);
		if (i)
			g_assert_cmpuint(h.got[i].start_ms, ==,
					 h.got[i - 1].start_ms + h.got[i - 1].duration_ms);
	}
}

/* Hesitation with force kept: under stall_ms it is part of the pass. */
static void test_hesitation_short(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	hand_run(&h, 159, 0);          /* still until 795 ms after the last tick */
	hand_run(&h, 40, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 20);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 200 + 795 + 200);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_LIFT);
}

/* ...and at stall_ms it ends the pass, at its last movement. */
static void test_hesitation_stall(void)
{
	struct hand h;
	uint64_t last_tick, resume_from;

	hand_init(&h);
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	last_tick = h.t;
	hand_run(&h, 159, 0);
	g_assert_cmpuint(h.n, ==, 0);
	hand_step(&h, 0);              /* 800 ms still */
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.ended_at[0], ==, last_tick + 800);
	g_assert_cmpuint(h.got[0].duration_ms, ==, 200);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 10);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_STOP);
	hand_run(&h, 10, 0);
	resume_from = h.t;
	hand_run(&h, 40, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 2);
	g_assert_cmpuint(h.got[1].start_ms, ==, resume_from);
	g_assert_cmpuint(h.got[1].duration_ms, ==, 200);

	/* Rolling on right at the stall sample: that sample is the rest. */
	h.force = 100;
	hand_run(&h, 2, 0);
	hand_run(&h, 40, 1);
	hand_run(&h, 160, 0);
	g_assert_cmpuint(h.n, ==, 3);
	resume_from = h.t;
	hand_run(&h, 40, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 4);
	g_assert_cmpuint(h.got[3].start_ms, ==, resume_from);
	g_assert_cmpuint(h.got[3].duration_ms, ==, 200);
}

/* Pressed and still, with the encoder dithering by a tick: no pass. */
static void test_dither_at_rest(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 300, 2);
	for (guint i = 0; i < 1000; i++)
		hand_step(&h, i % 2 ? -1 : 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 0);
}

static void test_flush(void)
{
	struct hand h;
	struct dp_detected p;

	hand_init(&h);
	g_assert_false(dp_detect_flush(&h.d, &p));
	hand_press(&h, 100, 2);
	hand_run(&h, 40, 1);
	hand_run(&h, 10, 0);
	g_assert_true(dp_detect_flush(&h.d, &p));
	g_assert_cmpuint(p.end_flags, ==, DP_PASS_END_STOP);
	g_assert_cmpuint(p.distance_mm, ==, 10);
	g_assert_cmpuint(p.duration_ms, ==, 200);
	g_assert_false(dp_detect_flush(&h.d, &p));
	/* Rolling on after the flush is a new pass from where it stood. */
	hand_run(&h, 40, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 10);

	/* Too short to count. */
	hand_press(&h, 100, 2);
	hand_run(&h, 5, 1);
	g_assert_false(dp_detect_flush(&h.d, &p));
}

/* Thresholds come from the config, not from constants. */
static void test_custom_config(void)
{
	struct dp_detect_config cfg = {
		.contact_cn = 200, .release_cn = 100, .lift_ms = 100,
		.reversal_ticks = 10, .stall_ms = 50, .min_distance_mm = 2,
		.warn_cn = 250, .ticks_per_10mm = 100,
	};
	struct hand h;

	hand_init(&h);
	dp_detect_init(&h.d, &cfg);
	hand_press(&h, 150, 2);        /* under contact_cn */
	hand_run(&h, 40, 1);
	g_assert_false(dp_detect_in_contact(&h.d));
	h.force = 300;
	hand_run(&h, 21, 1);           /* contact, then 20 ticks = 2 mm */
	hand_run(&h, 9, -1);           /* under reversal_ticks, 45 ms */
	g_assert_cmpuint(h.n, ==, 0);
	hand_run(&h, 1, 0);            /* 50 ms without progress: stall */
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 2);
	g_assert_cmpuint(h.got[0].end_flags, ==, DP_PASS_END_STOP);
	g_assert_cmpuint(h.got[0].over_warn_ms, ==, h.got[0].duration_ms);
}

/* ---- robustness ---- */

static void test_time_backwards(void)
{
	struct dp_detector d;
	struct dp_detect_config cfg = {
		.contact_cn = 30, .release_cn = 20, .lift_ms = 40, .reversal_ticks = 3,
		.stall_ms = 800, .min_distance_mm = 8, .warn_cn = 500, .ticks_per_10mm = 40,
	};
	struct dp_detected p;
	int32_t enc = 0;

	dp_detect_init(&d, &cfg);
	g_assert_false(dp_detect_feed(&d, 1000, 0, 600, 0, &p));
	for (guint i = 0; i < 100; i++) {
		/* Timestamps jump back and forth: treated as not advancing. */
		uint64_t t = i % 3 ? 500 : 1000 + i * 5;

		g_assert_false(dp_detect_feed(&d, t, ++enc, 600, 0, &p));
	}
	for (guint i = 0; i < 8; i++)
		g_assert_false(dp_detect_feed(&d, 2000 + i * 5, enc, 0, 0, &p));
	g_assert_true(dp_detect_feed(&d, 2040, enc, 0, 0, &p));
	g_assert_cmpuint(p.distance_mm, ==, 25);
	g_assert_cmpuint(p.over_warn_ms, <=, p.duration_ms);
	g_assert_cmpuint(p.mean_force_cn, ==, 600);
}

static void test_encoder_extremes(void)
{
	struct dp_detector d;
	struct dp_fw_config cfg;
	struct dp_detected p;

	dp_fw_config_default(&cfg);
	dp_detect_init(&d, &cfg.detect);
	g_assert_false(dp_detect_feed(&d, 0, INT32_MIN, 100, 0, &p));
	g_assert_false(dp_detect_feed(&d, 5, INT32_MIN, 100, 0, &p));
	g_assert_false(dp_detect_feed(&d, 10, INT32_MAX, 100, 0, &p));
	g_assert_true(dp_detect_feed(&d, 15, INT32_MIN, 100, 0, &p));
	/* 2^32 - 1 ticks, clamped. */
	g_assert_cmpuint(p.distance_mm, ==, UINT16_MAX);
	g_assert_cmpuint(p.direction, ==, DP_DIR_FORWARD);
	g_assert_cmpuint(p.end_flags, ==, DP_PASS_END_REVERSAL);
}

static void test_zero_calibration(void)
{
	struct dp_detect_config cfg = {
		.contact_cn = 30, .release_cn = 20, .lift_ms = 40, .reversal_ticks = 3,
		.stall_ms = 800, .min_distance_mm = 8, .warn_cn = 500, .ticks_per_10mm = 0,
	};
	struct hand h;

	hand_init(&h);
	dp_detect_init(&h.d, &cfg);
	hand_press(&h, 100, 2);
	hand_run(&h, 3, 1);
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 30);
}

/* A very long pass: duration and over_warn_ms saturate, over <= duration. */
static void test_long_pass(void)
{
	struct hand h;

	hand_init(&h);
	hand_press(&h, 900, 2);
	hand_run(&h, 20000, 1);        /* 100 s */
	hand_lift(&h, 20);
	g_assert_cmpuint(h.n, ==, 1);
	g_assert_cmpuint(h.got[0].duration_ms, ==, UINT16_MAX);
	g_assert_cmpuint(h.got[0].over_warn_ms, ==, UINT16_MAX);
	g_assert_cmpuint(h.got[0].distance_mm, ==, 5000);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/pass-detect/defaults", test_defaults);
	g_test_add_func("/pass-detect/forward-lift", test_forward_lift);
	g_test_add_func("/pass-detect/backward", test_backward);
	g_test_add_func("/pass-detect/min-distance", test_min_distance);
	g_test_add_func("/pass-detect/ramp-figures", test_ramp_figures);
	g_test_add_func("/pass-detect/over-warn", test_over_warn);
	g_test_add_func("/pass-detect/mean-angle", test_mean_angle);
	g_test_add_func("/pass-detect/lift-mid-pass", test_lift_mid_pass);
	g_test_add_func("/pass-detect/touch-down-rolling", test_touch_down_rolling);
	g_test_add_func("/pass-detect/short-dip", test_short_dip);
	g_test_add_func("/pass-detect/hysteresis", test_hysteresis);
	g_test_add_func("/pass-detect/reversal", test_reversal);
	g_test_add_func("/pass-detect/reversal-jitter", test_reversal_jitter);
	g_test_add_func("/pass-detect/reversal-pause", test_reversal_pause);
	g_test_add_func("/pass-detect/reversal-short-leg", test_reversal_short_leg);
	g_test_add_func("/pass-detect/back-and-forth", test_back_and_forth);
	g_test_add_func("/pass-detect/hesitation-short", test_hesitation_short);
	g_test_add_func("/pass-detect/hesitation-stall", test_hesitation_stall);
	g_test_add_func("/pass-detect/dither-at-rest", test_dither_at_rest);
	g_test_add_func("/pass-detect/flush", test_flush);
	g_test_add_func("/pass-detect/custom-config", test_custom_config);
	g_test_add_func("/pass-detect/robustness/time-backwards", test_time_backwards);
	g_test_add_func("/pass-detect/robustness/encoder-extremes", test_encoder_extremes);
	g_test_add_func("/pass-detect/robustness/zero-calibration", test_zero_calibration);
	g_test_add_func("/pass-detect/robustness/long-pass", test_long_pass);

	return g_test_run();
}
