/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sensor model (dp/model.h).  Each stroke is compiled into a few
 * segments, straight lines in time for the drum position and the force;
 * samples are read off them on the firmware's sample grid and noise is
 * added on top.
 */
#include <math.h>
#include <string.h>

#include "dp/model.h"

/* Noise of the force sensor with no load: below any contact threshold. */
#define LIFTED_NOISE_CN 2

void dp_model_config_default(struct dp_model_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->period_ms = 5;
	cfg->ticks_per_10mm = 40;
	cfg->force_noise_cn = 8;
	cfg->angle_noise_deg = 3;
	cfg->settle_ms = 40;
	cfg->gap_ms = 300;
	cfg->lift_ms = 150;
	cfg->turn_ms = 60;
	cfg->force_bias_cn = 0;
}

/* splitmix64: small, fast, and good enough for sensor noise; a distinct
 * sequence for every seed, 0 included. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z;

	*state += 0x9e3779b97f4a7c15ULL;
	z = *state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform integer in [-amp, amp]. */
static int rng_sym(uint64_t *state, unsigned int amp)
{
	if (!amp)
		return 0;
	return (int)(rng_next(state) % (2 * (uint64_t)amp + 1)) - (int)amp;
}

struct builder {
	struct dp_model_seg *seg;
	uint8_t count;
	double pos;                  /* ticks, relative to the stroke start */
	uint16_t force;
	double ticks_per_mm;
	int sign;
};

static void add_seg(struct builder *b, uint32_t dur_ms, double pos_to, uint16_t force_to)
{
	struct dp_model_seg *s;

	if (b->count >= DP_MODEL_SEGS_MAX)
		return;
	s = &b->seg[b->count++];
	s->dur_ms = dur_ms;
	s->pos_from = b->pos;
	s->pos_to = pos_to;
	s->force_from = b->force;
	s->force_to = force_to;
	b->pos = pos_to;
	b->force = force_to;
}

static void hold(struct builder *b, uint32_t dur_ms, uint16_t force_to)
{
	add_seg(b, dur_ms, b->pos, force_to);
}

/* Rolls from the current position to mm_to (distance along this leg). */
static void roll_to(struct builder *b, uint16_t mm_from, uint16_t mm_to,
		    uint16_t speed_mm_s, double leg_origin, int sign)
{
	uint32_t mm = mm_to > mm_from ? (uint32_t)(mm_to - mm_from) : 0;
	uint32_t dur = speed_mm_s ? (mm * 1000 + speed_mm_s / 2) / speed_mm_s : 0;

	if (!dur)
		dur = 1;
	add_seg(b, dur, leg_origin + sign * mm_to * b->ticks_per_mm, b->force);
}

/* One leg of rolling, with the hesitation and mid-roll lift of the stroke
 * placed in distance order along it. */
static void roll_leg(struct builder *b, const struct dp_model_config *cfg,
		     const struct dp_stroke *st, int sign, bool events)
{
	uint16_t at[2], kind[2];
	uint16_t done_mm = 0;
	double origin = b->pos;
	int n = 0;

	if (events && st->hesitate_at_mm && st->hesitate_ms &&
	    st->hesitate_at_mm < st->distance_mm) {
		at[n] = st->hesitate_at_mm;
		kind[n++] = 0;
	}
	if (events && st->lift_at_mm && st->lift_at_mm < st->distance_mm) {
		at[n] = st->lift_at_mm;
		kind[n++] = 1;
	}
	if (n == 2 && at[1] < at[0]) {
		uint16_t t = at[0];

		at[0] = at[1];
		at[1] = t;
		t = kind[0];
		kind[0] = kind[1];
		kind[1] = t;
	}

	for (int i = 0; i < n; i++) {
		roll_to(b, done_mm, at[i], st->speed_mm_s, origin, sign);
		done_mm = at[i];
		if (kind[i] == 0) {
			hold(b, st->hesitate_ms, st->force_cn);
		} else {
			hold(b, cfg->settle_ms, 0);
			hold(b, cfg->lift_ms, 0);
			hold(b, cfg->settle_ms, st->force_cn);
		}
	}
	roll_to(b, done_mm, st->distance_mm, st->speed_mm_s, origin, sign);
}

static void compile(struct dp_model *m)
{
	const struct dp_stroke *st = &m->plan[m->index];
	const struct dp_model_config *cfg = &m->cfg;
	struct builder b = {
		.seg = m->seg,
		.ticks_per_mm = cfg->ticks_per_10mm / 10.0,
		.pos = 0,
		.force = 0,
	};
	int sign = st->direction == DP_DIR_BACKWARD ? -1 : 1;

	switch (st->kind) {
	case DP_STROKE_ROLL:
	case DP_STROKE_BACK_AND_FORTH:
		m->angle_deg = st->angle_deg % 180;
		hold(&b, cfg->settle_ms, st->force_cn);
		roll_leg(&b, cfg, st, sign, true);
		if (st->kind == DP_STROKE_BACK_AND_FORTH) {
			hold(&b, cfg->turn_ms, st->force_cn);
			roll_leg(&b, cfg, st, -sign, false);
		}
		hold(&b, cfg->settle_ms, 0);
		hold(&b, cfg->gap_ms, 0);
		break;
	default:
		hold(&b, st->duration_ms, 0);
		break;
	}

	m->seg_count = b.count;
	m->seg_index = 0;
	m->seg_start_ms = 0;
	m->stroke_total_ms = 0;
	for (uint8_t i = 0; i < b.count; i++)
		m->stroke_total_ms += m->seg[i].dur_ms;
	m->compiled = true;
}

/* Moves past finished strokes so that either the plan is done or
 * stroke_ms falls inside plan[index]. */
static void advance(struct dp_model *m)
{
	while (m->index < m->plan_len) {
		if (!m->compiled)
			compile(m);
		if (m->stroke_ms < m->stroke_total_ms)
			return;
		if (m->seg_count)
			m->base_ticks += m->seg[m->seg_count - 1].pos_to;
		m->stroke_ms -= m->stroke_total_ms;
		m->index++;
		m->compiled = false;
		m->started = false;
	}
	/* Leftover time past the last stroke is lost: the next plan starts on
	 * the sample grid. */
	m->stroke_ms = 0;
}

void dp_model_init(struct dp_model *m, const struct dp_model_config *cfg,
		   const struct dp_stroke *plan, size_t plan_len, uint64_t start_ms)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	if (!m->cfg.period_ms)
		m->cfg.period_ms = 5;
	m->rng = cfg->seed;
	m->t_ms = start_ms;
	m->angle_deg = 90;
	dp_model_load(m, plan, plan_len);
}

void dp_model_load(struct dp_model *m, const struct dp_stroke *plan, size_t plan_len)
{
	m->plan = plan;
	m->plan_len = plan ? plan_len : 0;
	m->index = 0;
	m->stroke_ms = 0;
	m->compiled = false;
	m->started = false;
	advance(m);
}

bool dp_model_done(const struct dp_model *m)
{
	return m->index >= m->plan_len;
}

uint64_t dp_model_time(const struct dp_model *m)
{
	return m->t_ms;
}

size_t dp_model_end_after_stroke(struct dp_model *m)
{
	if (m->index < m->plan_len)
		m->plan_len = m->started ? m->index + 1 : m->index;
	return m->plan_len;
}

void dp_model_skip(struct dp_model *m, uint64_t ms)
{
	if (dp_model_done(m))
		m->t_ms += ms;
}

static uint16_t clamp_u16(long v)
{
	if (v < 0)
		return 0;
	if (v > UINT16_MAX)
		return UINT16_MAX;
	return (uint16_t)v;
}

static void make_sample(struct dp_model *m, double rel_ticks, double force,
			struct dp_sample *out)
{
	long f;
	int a;

	if (force > 0.0)
		f = lround(force) + rng_sym(&m->rng, m->cfg.force_noise_cn);
	else
		f = (long)(rng_next(&m->rng) % (LIFTED_NOISE_CN + 1));
	a = (int)m->angle_deg + rng_sym(&m->rng, m->cfg.angle_noise_deg);
	a %= 180;
	if (a < 0)
		a += 180;

	out->t_ms = m->t_ms;
	out->encoder = (int32_t)lround(m->base_ticks + rel_ticks);
	out->force_raw_cn = clamp_u16(f + m->cfg.force_bias_cn);
	out->angle_deg = (uint8_t)a;
	m->t_ms += m->cfg.period_ms;
}

bool dp_model_next(struct dp_model *m, struct dp_sample *out)
{
	const struct dp_model_seg *s;
	double frac;

	if (dp_model_done(m))
		return false;

	while (m->seg_index + 1 < m->seg_count &&
	       m->stroke_ms >= m->seg_start_ms + m->seg[m->seg_index].dur_ms) {
		m->seg_start_ms += m->seg[m->seg_index].dur_ms;
		m->seg_index++;
	}
	s = &m->seg[m->seg_index];
	frac = s->dur_ms ? (double)(m->stroke_ms - m->seg_start_ms) / s->dur_ms : 1.0;
	if (frac > 1.0)
		frac = 1.0;

	make_sample(m, s->pos_from + (s->pos_to - s->pos_from) * frac,
		    s->force_from + ((double)s->force_to - s->force_from) * frac, out);
	m->started = true;
	m->stroke_ms += m->cfg.period_ms;
	advance(m);
	return true;
}

void dp_model_step(struct dp_model *m, struct dp_sample *out)
{
	if (!dp_model_next(m, out))
		make_sample(m, 0.0, 0.0, out);
}

uint64_t dp_model_plan_ms(const struct dp_model_config *cfg,
			  const struct dp_stroke *plan, size_t plan_len)
{
	struct dp_model m;
	uint64_t total = 0;
	uint8_t period;

	dp_model_init(&m, cfg, NULL, 0, 0);
	period = m.cfg.period_ms;
	for (size_t i = 0; i < plan_len; i++) {
		m.plan = plan;
		m.plan_len = plan_len;
		m.index = i;
		compile(&m);
		total += m.stroke_total_ms;
	}
	return (total + period - 1) / period * period;
}

unsigned int dp_stroke_passes(const struct dp_stroke *s)
{
	unsigned int n;

	switch (s->kind) {
	case DP_STROKE_ROLL:
		n = 1;
		break;
	case DP_STROKE_BACK_AND_FORTH:
		n = 2;
		break;
	default:
		return 0;
	}
	if (s->lift_at_mm && s->lift_at_mm < s->distance_mm)
		n++;
	return n;
}
