/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict, line-aware reading of the small key files the safety policy uses
 * (data/safety-limits.conf and a dermatologist's plan file).
 *
 * GKeyFile alone forgives too much for a safety table: it merges duplicate
 * groups, lets a repeated key silently win and never says on which line a
 * value sits.  This reader refuses duplicates and keys outside a group, and
 * every error it raises names the file, the line, the group and the key, in
 * a sentence a person can act on (POLICY_ERROR domain, see policy.h).
 *
 * Internal to the policy; callers use policy.h and plan.h.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

struct policy_file {
	char *path;
	GKeyFile *kf;
	GHashTable *lines;	/* "group\x1fkey" or "group\x1f" -> line */
};

/* Reads and checks @path; on failure sets @error and leaves @pf cleared. */
bool policy_file_load(struct policy_file *pf, const char *path,
		      GError **error);
void policy_file_clear(struct policy_file *pf);

/* The 1-based line of @key in @group (or of the [@group] header when @key
 * is NULL), 0 when absent. */
unsigned int policy_file_line(const struct policy_file *pf, const char *group,
			      const char *key);

/* Sets @error to "PATH:LINE: [GROUP] KEY: MESSAGE" (parts left out when
 * unknown or NULL). */
void policy_file_error(const struct policy_file *pf, GError **error, int code,
		       const char *group, const char *key, const char *fmt,
		       ...) G_GNUC_PRINTF(6, 7);

bool policy_file_has_group(const struct policy_file *pf, const char *group);

/* Fails with POLICY_ERROR_MISSING when [@group] is absent. */
bool policy_file_require_group(const struct policy_file *pf, const char *group,
			       GError **error);

/* Fails with POLICY_ERROR_UNKNOWN on any key of [@group] not in @allowed
 * (NULL-terminated). */
bool policy_file_check_keys(const struct policy_file *pf, const char *group,
			    const char *const *allowed, GError **error);

/* Typed getters.  Each fails with POLICY_ERROR_MISSING when the key is
 * absent and POLICY_ERROR_VALUE when its value is not valid. */
bool policy_file_get_text(const struct policy_file *pf, const char *group,
			  const char *key, size_t max_bytes, char **out,
			  GError **error);
bool policy_file_get_uint(const struct policy_file *pf, const char *group,
			  const char *key, unsigned int min, unsigned int max,
			  unsigned int *out, GError **error);
/* A decimal such as "0.75" with at most 3 decimals, scaled by 10^3 (mm to
 * µm) or 10^2 (N to cN) as @scale_digits says; must lie in min..max after
 * scaling. */
bool policy_file_get_decimal(const struct policy_file *pf, const char *group,
			     const char *key, unsigned int scale_digits,
			     unsigned int min, unsigned int max,
			     const char *unit, unsigned int *out,
			     GError **error);
/* An ISO 8601 calendar date, YYYY-MM-DD, that exists. */
bool policy_file_get_date(const struct policy_file *pf, const char *group,
			  const char *key, char **out, GError **error);

/* Exactly one of interval_days (1..3650) or interval_hours (1..87600). */
bool policy_file_get_interval(const struct policy_file *pf, const char *group,
			      gint64 *seconds, bool *in_days, GError **error);
