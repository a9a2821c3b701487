/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The routine file of `dermaroll session --simulate --plan FILE`: what a
 * person would answer and choose on the routine screen, stated in advance
 * (doc/dermaroll.1, ROUTINE FILE).  A GKeyFile:
 *
 *   [routine]
 *   format = 1
 *   zones = forehead;left-cheek;right-cheek
 *   needle_mm = 0.5                     (the virtual head, 0.1 to 3)
 *   head_uses = 0                       (optional)
 *   dermatologist_plan = my-plan.conf   (optional, beside this file)
 *
 *   [checklist]
 *   skin = no
 *   ... every item of the safety table, yes or no: no defaults ...
 *
 *   [overrides]                         (optional)
 *   forehead = the reason, typed in full
 *
 * Unknown groups and keys, unknown zones, missing answers and reasons that
 * are not typed in full (policy_check_override_reason()) reject the file.
 */
#pragma once

#include <glib.h>

#include "policy.h"
#include "zones.h"

struct routine {
	guint32 zones;				/* POLICY_ZONE_BIT()s */
	unsigned int needle_um;
	unsigned int head_uses;
	char *plan_path;			/* dermatologist's plan, or NULL */
	struct policy_checklist checklist;
	char *overrides[ZONE_COUNT + 1];	/* reason per zone, or NULL */
};

/* Reads @path; the checklist and the override reasons are checked against
 * @policy.  On failure @error holds one sentence naming the file. */
struct routine *routine_load(const char *path, const struct policy *policy,
			     GError **error);
void routine_free(struct routine *r);
