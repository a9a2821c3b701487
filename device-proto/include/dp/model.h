/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sensor model: a physical stand-in for a hand on the roller.  It turns a
 * plan of strokes into the samples the roller's sensors would give — encoder
 * ticks, force and angle — at the firmware's sample rate.
 *
 * Each stroke is rolled as: set down (force ramps up over settle_ms, drum
 * still), roll at constant speed and force, set the drum still and lift
 * (force ramps down over settle_ms), then stay lifted for gap_ms, so two
 * strokes are always two passes.  Noise is uniform and comes from the
 * model's own seeded generator: the same seed gives the same samples.
 *
 * No allocation: the caller owns the plan array and keeps it alive while the
 * model rolls it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/firmware.h"

enum dp_stroke_kind {
	DP_STROKE_ROLL = 0,          /* roll in contact, then lift at the end */
	DP_STROKE_PAUSE,             /* roller lifted and still for duration_ms */
	DP_STROKE_BACK_AND_FORTH,    /* roll out and straight back without lifting: two passes */
};

struct dp_stroke {
	uint8_t kind;                /* enum dp_stroke_kind */
	uint8_t zone;                /* informational: the zone the plan meant */
	uint8_t direction;           /* enum dp_direction of the (first) roll */
	uint8_t angle_deg;           /* track orientation 0..179 */
	uint16_t distance_mm;        /* length of the roll (of each leg for BACK_AND_FORTH) */
	uint16_t speed_mm_s;         /* rolling speed, > 0 */
	uint16_t force_cn;           /* target force while rolling */
	uint32_t duration_ms;        /* PAUSE only */
	uint16_t lift_at_mm;         /* 0 < x < distance: lift off at this distance,
				        stay lifted lift_ms, set down and roll on
				        (the pass splits in two) */
	uint16_t hesitate_at_mm;     /* 0 < x < distance: drum stops here, force kept */
	uint16_t hesitate_ms;        /*     ...for this long, then rolls on */
};

struct dp_model_config {
	uint64_t seed;
	uint8_t period_ms;           /* sample period, 5..10 (the firmware's force_period_ms) */
	uint16_t ticks_per_10mm;     /* must match the firmware's calibration (40) */
	uint16_t force_noise_cn;     /* uniform noise amplitude on force in contact (8) */
	uint8_t angle_noise_deg;     /* uniform noise amplitude on angle (3) */
	uint16_t settle_ms;          /* force ramp at contact and at lift (40) */
	uint16_t gap_ms;             /* lifted after each roll stroke (300) */
	uint16_t lift_ms;            /* lifted during a lift_at_mm (150) */
	uint16_t turn_ms;            /* drum still at a BACK_AND_FORTH turn (60) */
	uint16_t force_bias_cn;      /* raw sensor reading with no load (0) */
};

/* Fills *cfg with the defaults above (seed 1, 5 ms, 40 ticks per 10 mm). */
void dp_model_config_default(struct dp_model_config *cfg);

/* One piece of a stroke: a straight line in time for force and drum
 * position.  Private to model.c. */
struct dp_model_seg {
	uint32_t dur_ms;
	double pos_from, pos_to;     /* ticks, relative to the stroke's start */
	uint16_t force_from, force_to;
};
#define DP_MODEL_SEGS_MAX 12

/* Fields are private to model.c. */
struct dp_model {
	struct dp_model_config cfg;
	const struct dp_stroke *plan;
	size_t plan_len, index;
	uint64_t t_ms;               /* time of the next sample */
	double base_ticks;           /* drum position when the stroke began */
	uint64_t rng;
	uint8_t angle_deg;           /* orientation of the current or last stroke */
	struct dp_model_seg seg[DP_MODEL_SEGS_MAX];
	uint8_t seg_count, seg_index;
	uint32_t stroke_ms;          /* time into the current stroke */
	uint32_t seg_start_ms;       /* stroke time at which seg[seg_index] began */
	uint32_t stroke_total_ms;
	bool compiled;               /* seg[] holds plan[index] */
	bool started;                /* a sample of plan[index] was produced */
};

/* Starts rolling plan (may be NULL with plan_len 0) at start_ms, drum at 0. */
void dp_model_init(struct dp_model *m, const struct dp_model_config *cfg,
		   const struct dp_stroke *plan, size_t plan_len, uint64_t start_ms);

/* Produces the next sample of the plan.  Returns false once the plan is
 * done, and then leaves *out and the model's time alone. */
bool dp_model_next(struct dp_model *m, struct dp_sample *out);

/* The next sample whatever happens: the plan's, or, once the plan is done,
 * the roller resting lifted and still. */
void dp_model_step(struct dp_model *m, struct dp_sample *out);

bool dp_model_done(const struct dp_model *m);

/* Time of the next sample. */
uint64_t dp_model_time(const struct dp_model *m);

/* Rolls a new plan from the current time and drum position.  Any stroke in
 * progress is abandoned as it is, so call this when dp_model_done(). */
void dp_model_load(struct dp_model *m, const struct dp_stroke *plan, size_t plan_len);

/* Makes the plan end once the stroke in progress (if any) is finished.
 * Returns the index of the first stroke of the plan that will not be
 * rolled now (the plan's length if none), so a caller can resume there. */
size_t dp_model_end_after_stroke(struct dp_model *m);

/* Lets ms pass with the roller resting, without producing samples.  Does
 * nothing unless dp_model_done(). */
void dp_model_skip(struct dp_model *m, uint64_t ms);

/* How long a plan takes to roll, in ms (a whole number of samples is
 * produced: the stroke boundaries fall on the sample grid or just after). */
uint64_t dp_model_plan_ms(const struct dp_model_config *cfg,
			  const struct dp_stroke *plan, size_t plan_len);

/* Passes a detector with the default configuration (PROTOCOL.md §11.2)
 * sees for this stroke: 0 for a pause, 1 for a roll, 2 for a back-and-forth,
 * plus one if it lifts mid-roll.  Assumes every piece of roll is at least
 * the detector's min_distance_mm long and every hesitation shorter than its
 * stall_ms. */
unsigned int dp_stroke_passes(const struct dp_stroke *s);
