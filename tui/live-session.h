/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "link.h"

/* The limits the live screen shows, from the safety policy. */
struct live_bands {
	unsigned target_per_direction;
	uint16_t light_below_cn, target_up_to_cn, warn_above_cn;
};

/* Runs the live screen on @link until the user quits.  Returns the exit status. */
int live_session_run(struct link *link, const struct live_bands *bands);
