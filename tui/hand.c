/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hand of `dermaroll --simulate` (hand.h).
 */
#include <string.h>

#include "hand.h"

/* From too light to too hard on the bands of SAFETY.md "Pressure"
 * (< 1.0 N, 1.0-4.0 N, > 5.0 N). */
static const uint16_t levels_cn[HAND_LEVELS] = { 60, 150, 250, 350, 450, 550, 650 };
#define HAND_DEFAULT_LEVEL 2

/* Track angles the pass classes come out of (zone_classify_angle()). */
static const uint8_t angles[ZONE_DIR_COUNT] = {
	[ZONE_DIR_HORIZONTAL] = 90,
	[ZONE_DIR_VERTICAL] = 0,
	[ZONE_DIR_DIAGONAL] = 45,
};

void hand_init(struct hand *hand)
{
	hand->dir = ZONE_DIR_HORIZONTAL;
	hand->level = HAND_DEFAULT_LEVEL;
}

void hand_next_direction(struct hand *hand)
{
	hand->dir = (enum zone_dir)((hand->dir + 1) % ZONE_DIR_COUNT);
}

bool hand_harder(struct hand *hand)
{
	if (hand->level + 1 >= HAND_LEVELS)
		return false;
	hand->level++;
	return true;
}

bool hand_lighter(struct hand *hand)
{
	if (hand->level == 0)
		return false;
	hand->level--;
	return true;
}

unsigned int hand_force_cn(const struct hand *hand)
{
	return levels_cn[hand->level];
}

void hand_stroke(const struct hand *hand, int zone, struct dp_stroke *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = DP_STROKE_ROLL;
	out->zone = (uint8_t)zone;
	out->direction = DP_DIR_FORWARD;
	out->angle_deg = angles[hand->dir];
	out->distance_mm = 40;
	out->speed_mm_s = 60;
	/* A hand holds a level only roughly: it aims a little under it, and
	 * the force sensor's noise (up to 8 cN) brings the peak back to the
	 * level's tenth of a newton. */
	out->force_cn = (uint16_t)(levels_cn[hand->level] - 4);
}

void hand_lift(struct dp_stroke *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = DP_STROKE_PAUSE;
	out->duration_ms = 1000;
}
