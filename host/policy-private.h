/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The loaded safety table, shared by policy-table.c (which reads and checks
 * it) and policy.c (which answers from it).  Internal to the policy.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "policy.h"

#define POLICY_ROWS_MAX 16
#define POLICY_AFTERCARE_MAX 16
#define OVERRIDE_MAX_CHARS 500

struct interval {
	gint64 s;
	bool in_days;
};

struct row {
	unsigned int up_to_um;
	struct interval iv;
	const char *group;	/* the row's [group], while loading only */
};

struct class_rule {
	bool has_max;
	unsigned int max_um;
	bool has_interval;
	struct interval iv;
};

struct policy {
	char *path;
	unsigned int version;
	char *date;

	struct row rows[POLICY_ROWS_MAX];
	unsigned int n_rows;
	unsigned int refuse_from_um;
	struct class_rule classes[ZONE_CLASS_COUNT];

	struct policy_passes passes;
	struct policy_pressure_bands pressure;

	unsigned int remind_at_uses;
	unsigned int refuse_at_uses;
	unsigned int refuse_after_days;

	unsigned int override_min_chars;
	unsigned int override_min_words;

	struct policy_checklist_item checklist[POLICY_CHECKLIST_MAX];
	unsigned int n_checklist;
	char *checklist_information;

	struct policy_aftercare_item aftercare[POLICY_AFTERCARE_MAX];
	unsigned int n_aftercare;
};
