/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The live screen: what the roller is doing now.  The data it shows is a
 * plain struct filled by the link handlers; only live-screen.c calls curses.
 */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "link.h"
#include "zones.h"

struct live_model {
	bool connected;
	char roller[DP_STR_MAX + 1];
	uint16_t needle_um;
	uint16_t head_uses;
	int battery_pct;             /* -1 until the first status */

	uint8_t zone;                /* enum dp_zone, 0 before the session */
	unsigned zone_number, zone_total;
	unsigned passes[ZONE_DIR_COUNT];  /* this zone, per direction class */
	unsigned target_per_direction;
	unsigned too_hard;           /* passes this zone with time over the warning band */

	uint16_t force_cn;           /* latest sample */
	uint16_t peak_cn;            /* peak this zone */
	uint16_t light_below_cn, target_up_to_cn, warn_above_cn;

	bool have_pass;
	struct dp_pass last_pass;
	uint8_t last_pass_class;     /* enum zone_dir */

	struct link_counters counters;
	gint64 started_us;           /* monotonic, 0 before the session */
	bool finished;
	char message[200];           /* what happened last, for the user */
};

/* Curses set-up and tear-down.  Colour when the terminal has it and NO_COLOR
 * is not set. */
void live_screen_open(void);
void live_screen_close(void);
/* The next key pressed, or -1 if none is waiting. */
int live_screen_key(void);
void live_screen_draw(const struct live_model *m, gint64 now_us);
