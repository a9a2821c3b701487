/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pass detection from drum-encoder ticks and tared force (PROTOCOL.md §11.2).
 *
 * A pass is continuous rolling in one direction with contact force.  A
 * reversal or a lift ends it; a short hesitation (drum still, force kept)
 * does not.  Rolls shorter than min_distance_mm are not passes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dp/proto.h"

struct dp_detect_config {
	uint16_t contact_cn;         /* contact begins at or above this force (30) */
	uint16_t release_cn;         /* ...and ends below this one (20), hysteresis */
	uint16_t lift_ms;            /* force below release this long = lift (40) */
	uint16_t reversal_ticks;     /* this much travel backwards = reversal (3) */
	uint16_t stall_ms;           /* drum still this long ends the pass (800) */
	uint16_t min_distance_mm;    /* shorter rolls are jitter, not passes (8) */
	uint16_t warn_cn;            /* over_warn_ms counts time above this (500) */
	uint16_t ticks_per_10mm;     /* encoder calibration (40) */
};

/* A finished pass, without the fields the firmware adds (seq, session, zone,
 * clock flag) — those belong to the log, not to detection. */
struct dp_detected {
	uint64_t start_ms;           /* monotonic, same base as the samples */
	uint16_t duration_ms;
	uint16_t distance_mm;
	uint8_t direction;           /* enum dp_direction */
	uint8_t angle_deg;           /* mean orientation over the pass, 0..179 */
	uint16_t mean_force_cn, peak_force_cn, over_warn_ms;
	uint8_t end_flags;           /* DP_PASS_END_* */
};

/* Running sums over a run of samples (private to pass-detect.c). */
struct dp_detect_sum {
	uint64_t force_sum;
	uint32_t samples;
	uint16_t peak_cn;
	uint32_t over_warn_ms;
	double angle_x, angle_y;
};

/* The pass in progress covers the samples in (start_ms, last_move_ms]: from
 * the last still sample before the drum moved to its last progress in the
 * pass direction.  Samples after the last progress wait in `tail`: they join
 * the pass if rolling goes on (a hesitation), and are dropped if it ends by
 * lift or stall.  `back` is the part of the tail after the drum last stood at
 * its furthest point (turn_ms); on a reversal it opens the next pass.  Out of
 * a pass, start_encoder/start_ms are where and when the drum last stood
 * still in contact. */
struct dp_detector {
	struct dp_detect_config cfg;
	bool have_prev, contact, in_pass;
	int8_t dir;                  /* +1 / -1 while in a pass */
	int32_t prev_encoder, start_encoder, extreme_encoder;
	uint64_t prev_t, start_ms, last_move_ms, below_since_ms;
	uint64_t force_sum;
	uint32_t samples;
	uint16_t peak_cn;
	uint32_t over_warn_ms;
	double angle_x, angle_y;     /* doubled-angle vector sum for the mean */
	uint64_t turn_ms;            /* last sample standing at extreme_encoder */
	struct dp_detect_sum tail, back;
};

void dp_detect_init(struct dp_detector *d, const struct dp_detect_config *cfg);

/* Feeds one sample.  Returns true and fills *out when a pass just ended. */
bool dp_detect_feed(struct dp_detector *d, uint64_t t_ms, int32_t encoder,
		    uint16_t force_cn, uint8_t angle_deg, struct dp_detected *out);

/* Ends the current pass now (session stop).  Returns true if there was one
 * long enough to count. */
bool dp_detect_flush(struct dp_detector *d, struct dp_detected *out);

bool dp_detect_in_contact(const struct dp_detector *d);
/* A pass is in progress (it may still turn out too short to count). */
bool dp_detect_in_pass(const struct dp_detector *d);
