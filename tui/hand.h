/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rolling by hand with the virtual roller (`dermaroll --simulate`): the
 * direction and the pressure of the hand, and the strokes one key rolls
 * (virtual_roller_roll()).
 */
#pragma once

#include <stdint.h>

#include "dp/model.h"
#include "zones.h"

#define HAND_LEVELS 7

struct hand {
	enum zone_dir dir;
	unsigned int level;          /* index into the pressure levels */
};

/* Horizontal, at 2.5 N. */
void hand_init(struct hand *hand);
void hand_next_direction(struct hand *hand);
/* FALSE when already at the hardest (lightest) level. */
bool hand_harder(struct hand *hand);
bool hand_lighter(struct hand *hand);
/* The pressure of the level, in cN as shown. */
unsigned int hand_force_cn(const struct hand *hand);
/* One pass on @zone in the hand's direction and pressure. */
void hand_stroke(const struct hand *hand, int zone, struct dp_stroke *out);
/* The roller lifted and still for a second. */
void hand_lift(struct dp_stroke *out);
