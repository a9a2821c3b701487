/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The face map, the pass counters and the pressure gauge of the routine
 * screen.  Rows and columns are the screen's; each draws what the engine
 * and the driver (struct tui) know now.
 */
#pragma once

#include "view.h"

/* The face, as in a mirror, with each zone of the routine marked ([>] now,
 * [x] locked, [v] done, [-] skipped, [ ] to come) and the current one lit;
 * returns the rows it took. */
int routine_map(struct tui *tui, struct draw *d, int top, int left);
/* "Also: [ ] Hands ..." for the zones off the face that the routine has;
 * returns the rows it took (0 or 1). */
int routine_body_zones(struct tui *tui, struct draw *d, int row, int col);
/* The passes on @zone per direction against the target and the maximum
 * (5 rows). */
void routine_passes(struct tui *tui, struct draw *d, int row, int left, int zone);
/* The force now and the zone's peak on a bar with the policy's bands, out
 * to the screen's right edge (3 rows). */
void routine_gauge(struct tui *tui, struct draw *d, int row, int left);
/* "too light", "on target", "high", "TOO HARD". */
const char *routine_band_words(enum policy_pressure band);
