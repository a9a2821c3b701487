/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A dermatologist's plan file (SAFETY.md "Overrides"): a small key file
 * naming the dermatologist, the date signed and one or more rules, each
 * setting the interval for one zone and one needle length.  A plan may
 * loosen an interval, or allow a needle the default table refuses on a zone
 * (between 1.0 and 1.5 mm, or longer than 0.5 mm on the scalp); it can never
 * allow needles of 1.5 mm or longer.  doc/safety-limits.md shows the format.
 *
 *   [plan]
 *   format = 1
 *   dermatologist = Dr. A. Example, City Skin Clinic
 *   signed = 2025-11-20
 *
 *   [rule forehead]
 *   zone = forehead
 *   needle_mm = 0.5
 *   interval_days = 14
 *
 * A rule applies to heads of exactly its needle length on its zone, and its
 * interval replaces the table's (a plan that is stricter is followed too).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "policy.h"

#define PLAN_FORMAT 1

struct plan;

struct plan_rule {
	int zone;		/* enum dp_zone */
	unsigned int needle_um;
	gint64 interval_s;
	bool in_days;		/* the file gave days (else hours), for messages */
	const char *group;	/* the rule's [group] in the file */
};

/*
 * Loads and checks @path against @policy (for the home needle limit).  Any
 * fault rejects the whole file, with a POLICY_ERROR message naming the file,
 * the line and the key; a rule for needles the table never allows at home
 * fails with POLICY_ERROR_FORBIDDEN.
 */
struct plan *plan_load(const struct policy *policy, const char *path,
		       GError **error);
void plan_free(struct plan *plan);

const char *plan_path(const struct plan *plan);
/* For exports: who signed the plan, and when (YYYY-MM-DD). */
const char *plan_dermatologist(const struct plan *plan);
const char *plan_signed(const struct plan *plan);

unsigned int plan_rule_count(const struct plan *plan);
const struct plan_rule *plan_rule_get(const struct plan *plan,
				      unsigned int index);
/* The rule for @zone and heads of exactly @needle_um, or NULL. */
const struct plan_rule *plan_find_rule(const struct plan *plan, int zone,
				       unsigned int needle_um);
