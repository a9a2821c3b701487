/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pass detection (PROTOCOL.md §11.2): encoder ticks and tared force in,
 * finished passes out.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dp/pass-detect.h"

/* C11 has no M_PI. */
#define DEG_PER_RAD 57.29577951308232

static void sum_add(struct dp_detect_sum *s, uint16_t force_cn, uint64_t dt_ms,
		    uint8_t angle_deg, uint16_t warn_cn)
{
	/* Orientation wraps at 180 degrees: average the doubled angle as a
	 * unit vector so that 178 and 2 meet at 0, not at 90 (§11.2). */
	double a = (double)(2 * (angle_deg % 180)) / DEG_PER_RAD;

	s->force_sum += force_cn;
	s->samples++;
	if (force_cn > s->peak_cn)
		s->peak_cn = force_cn;
	if (force_cn > warn_cn)
		s->over_warn_ms += dt_ms > UINT32_MAX - s->over_warn_ms ?
				   UINT32_MAX - s->over_warn_ms : (uint32_t)dt_ms;
	s->angle_x += cos(a);
	s->angle_y += sin(a);
}

static void sum_merge(struct dp_detect_sum *into, const struct dp_detect_sum *s)
{
	into->force_sum += s->force_sum;
	into->samples += s->samples;
	if (s->peak_cn > into->peak_cn)
		into->peak_cn = s->peak_cn;
	into->over_warn_ms += s->over_warn_ms > UINT32_MAX - into->over_warn_ms ?
			      UINT32_MAX - into->over_warn_ms : s->over_warn_ms;
	into->angle_x += s->angle_x;
	into->angle_y += s->angle_y;
}

/* The pass's own sums live in the flat fields of struct dp_detector. */
static void pass_get(const struct dp_detector *d, struct dp_detect_sum *s)
{
	s->force_sum = d->force_sum;
	s->samples = d->samples;
	s->peak_cn = d->peak_cn;
	s->over_warn_ms = d->over_warn_ms;
	s->angle_x = d->angle_x;
	s->angle_y = d->angle_y;
}

static void pass_set(struct dp_detector *d, const struct dp_detect_sum *s)
{
	d->force_sum = s->force_sum;
	d->samples = s->samples;
	d->peak_cn = s->peak_cn;
	d->over_warn_ms = s->over_warn_ms;
	d->angle_x = s->angle_x;
	d->angle_y = s->angle_y;
}

static void pass_merge_tail(struct dp_detector *d)
{
	struct dp_detect_sum s;

	pass_get(d, &s);
	sum_merge(&s, &d->tail);
	pass_set(d, &s);
	memset(&d->tail, 0, sizeof(d->tail));
	memset(&d->back, 0, sizeof(d->back));
}

static uint8_t mean_angle(double x, double y)
{
	double deg = atan2(y, x) * DEG_PER_RAD / 2.0;
	long r;

	if (deg < 0)
		deg += 180.0;
	r = lround(deg);
	if (r >= 180)
		r -= 180;
	if (r < 0)
		r = 0;
	return (uint8_t)r;
}

static uint64_t travel_ticks(const struct dp_detector *d)
{
	int64_t t = ((int64_t)d->extreme_encoder - d->start_encoder) * d->dir;

	return t > 0 ? (uint64_t)t : 0;
}

/* Ends the pass at its last progress.  Fills *out and returns true if it
 * rolled at least min_distance_mm; shorter rolls are jitter. */
static bool pass_finish(struct dp_detector *d, uint8_t end_flags,
			struct dp_detected *out)
{
	uint64_t ticks = travel_ticks(d);
	uint64_t tp = d->cfg.ticks_per_10mm ? d->cfg.ticks_per_10mm : 1;
	uint64_t duration, mm, over;

	d->in_pass = false;
	memset(&d->tail, 0, sizeof(d->tail));
	memset(&d->back, 0, sizeof(d->back));

	if (ticks * 10 < (uint64_t)d->cfg.min_distance_mm * tp || d->samples == 0)
		return false;

	duration = d->last_move_ms - d->start_ms;
	if (duration > UINT16_MAX)
		duration = UINT16_MAX;
	mm = (ticks * 10 + tp / 2) / tp;
	if (mm > UINT16_MAX)
		mm = UINT16_MAX;
	over = d->over_warn_ms < duration ? d->over_warn_ms : duration;

	memset(out, 0, sizeof(*out));
	out->start_ms = d->start_ms;
	out->duration_ms = (uint16_t)duration;
	out->distance_mm = (uint16_t)mm;
	out->direction = d->dir > 0 ? DP_DIR_FORWARD : DP_DIR_BACKWARD;
	out->angle_deg = mean_angle(d->angle_x, d->angle_y);
	out->mean_force_cn = (uint16_t)((d->force_sum + d->samples / 2) / d->samples);
	out->peak_force_cn = d->peak_cn;
	out->over_warn_ms = (uint16_t)over;
	out->end_flags = end_flags;
	return true;
}

static void pass_begin(struct dp_detector *d, int8_t dir, uint64_t t_ms,
		       int32_t encoder, const struct dp_detect_sum *first)
{
	d->in_pass = true;
	d->dir = dir;
	pass_set(d, first);
	d->extreme_encoder = encoder;
	d->last_move_ms = t_ms;
	d->turn_ms = t_ms;
	memset(&d->tail, 0, sizeof(d->tail));
	memset(&d->back, 0, sizeof(d->back));
}

void dp_detect_init(struct dp_detector *d, const struct dp_detect_config *cfg)
{
	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
}

/* One sample inside a pass.  Returns true with *out when the pass ended and
 * counted. */
static bool feed_in_pass(struct dp_detector *d, uint64_t t_ms, int32_t encoder,
			 const struct dp_detect_sum *sample, struct dp_detected *out)
{
	bool ended = false;

	sum_merge(&d->tail, sample);
	sum_merge(&d->back, sample);

	if (d->contact) {
		int64_t delta = ((int64_t)encoder - d->extreme_encoder) * d->dir;

		if (delta > 0) {
			/* Progress: a hesitation before it was part of the pass. */
			pass_merge_tail(d);
			d->extreme_encoder = encoder;
			d->last_move_ms = t_ms;
			d->turn_ms = t_ms;
			return false;
		}
		if (delta == 0) {
			memset(&d->back, 0, sizeof(d->back));
			d->turn_ms = t_ms;
		} else if (-delta >= d->cfg.reversal_ticks) {
			/* Reversal: the way back is the next pass, from the
			 * moment the drum left its furthest point (§11.2). */
			struct dp_detect_sum back = d->back;
			int32_t turn_encoder = d->extreme_encoder;
			uint64_t turn_ms = d->turn_ms;
			int8_t dir = (int8_t)-d->dir;

			ended = pass_finish(d, DP_PASS_END_REVERSAL, out);
			d->start_encoder = turn_encoder;
			d->start_ms = turn_ms;
			pass_begin(d, dir, t_ms, encoder, &back);
			return ended;
		}
	}

	if (!d->contact && t_ms - d->below_since_ms >= d->cfg.lift_ms)
		return pass_finish(d, DP_PASS_END_LIFT, out);
	if (t_ms - d->last_move_ms >= d->cfg.stall_ms) {
		ended = pass_finish(d, DP_PASS_END_STOP, out);
		d->start_encoder = encoder;
		d->start_ms = t_ms;
	}
	return ended;
}

bool dp_detect_feed(struct dp_detector *d, uint64_t t_ms, int32_t encoder,
		    uint16_t force_cn, uint8_t angle_deg, struct dp_detected *out)
{
	struct dp_detect_sum sample;
	bool was_contact = d->contact;
	bool ended = false;
	uint64_t dt = 0;

	/* Time never runs backwards for the detector. */
	if (d->have_prev) {
		if (t_ms < d->prev_t)
			t_ms = d->prev_t;
		dt = t_ms - d->prev_t;
	}

	/* Contact with hysteresis: on at contact_cn, off below release_cn. */
	if (d->contact && force_cn < d->cfg.release_cn) {
		d->contact = false;
		d->below_since_ms = t_ms;
	} else if (!d->contact && force_cn >= d->cfg.contact_cn) {
		d->contact = true;
	}

	memset(&sample, 0, sizeof(sample));
	sum_add(&sample, force_cn, dt, angle_deg, d->cfg.warn_cn);

	if (d->in_pass) {
		ended = feed_in_pass(d, t_ms, encoder, &sample, out);
	} else if (d->contact) {
		if (!was_contact || encoder == d->start_encoder) {
			/* Standing still in contact: a pass would start here. */
			d->start_encoder = encoder;
			d->start_ms = t_ms;
		} else {
			pass_begin(d, encoder > d->start_encoder ? 1 : -1, t_ms,
				   encoder, &sample);
		}
	}

	d->have_prev = true;
	d->prev_t = t_ms;
	d->prev_encoder = encoder;
	return ended;
}

bool dp_detect_flush(struct dp_detector *d, struct dp_detected *out)
{
	bool ended;

	if (!d->in_pass)
		return false;
	ended = pass_finish(d, DP_PASS_END_STOP, out);
	d->start_encoder = d->prev_encoder;
	d->start_ms = d->prev_t;
	return ended;
}

bool dp_detect_in_contact(const struct dp_detector *d)
{
	return d->contact;
}

bool dp_detect_in_pass(const struct dp_detector *d)
{
	return d->in_pass;
}
