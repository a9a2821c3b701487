/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A dermatologist's plan file (SAFETY.md "Overrides"): loading and lookup.
 * The policy consults it in policy_check_zone() after the home needle
 * limit, which no plan can pass.
 */
#include <string.h>

#include <glib.h>

#include "plan.h"
#include "policy-file.h"

#define PLAN_RULES_MAX 64
#define PLAN_NAME_MAX 200

struct plan {
	char *path;
	char *dermatologist;
	char *signed_on;
	struct plan_rule rules[PLAN_RULES_MAX];
	unsigned int n_rules;
};

static bool load_header(const struct policy_file *pf, struct plan *plan,
			GError **error)
{
	static const char *const keys[] = {
		"format", "dermatologist", "signed", NULL
	};
	unsigned int format;

	if (!policy_file_require_group(pf, "plan", error) ||
	    !policy_file_get_uint(pf, "plan", "format", 1, 999999, &format,
				  error))
		return false;

	if (format != PLAN_FORMAT) {
		policy_file_error(pf, error, POLICY_ERROR_FORMAT, "plan",
				  "format",
				  "the plan has format %u, but this dermaroll reads format %u.",
				  format, PLAN_FORMAT);
		return false;
	}

	return policy_file_check_keys(pf, "plan", keys, error) &&
	       policy_file_get_text(pf, "plan", "dermatologist", PLAN_NAME_MAX,
				    &plan->dermatologist, error) &&
	       policy_file_get_date(pf, "plan", "signed", &plan->signed_on,
				    error);
}

static bool load_rule(const struct policy_file *pf, const struct policy *policy,
		      struct plan *plan, const char *group, GError **error)
{
	static const char *const keys[] = {
		"zone", "needle_mm", "interval_days", "interval_hours", NULL
	};
	struct plan_rule *r = &plan->rules[plan->n_rules];
	g_autofree char *zone_name = NULL;
	const struct zone_info *zone;
	char limit[16];
	unsigned int lim = policy_refuse_from_um(policy);

	if (!policy_file_check_keys(pf, group, keys, error) ||
	    !policy_file_get_text(pf, group, "zone", 64, &zone_name, error))
		return false;

	zone = zone_lookup(zone_name);
	if (!zone) {
		GString *names = g_string_new(NULL);

		for (unsigned int i = 0; i < ZONE_COUNT; i++)
			g_string_append_printf(names, "%s%s", i ? ", " : "",
					       zone_by_order(i)->name);
		policy_file_error(pf, error, POLICY_ERROR_VALUE, group, "zone",
				  "“%s” is not a zone; the zones are %s.",
				  zone_name, names->str);
		g_string_free(names, TRUE);
		return false;
	}

	if (!policy_file_get_decimal(pf, group, "needle_mm", 3, 1, 99999, "mm",
				     &r->needle_um, error))
		return false;

	/* SAFETY.md "Overrides": never at home, whoever signs. */
	if (r->needle_um >= lim) {
		g_snprintf(limit, sizeof(limit), "%u.%02u", lim / 1000,
			   (lim % 1000) / 10);
		policy_file_error(pf, error, POLICY_ERROR_FORBIDDEN, group,
				  "needle_mm",
				  "needles of %s mm or longer are never allowed at home, and a plan cannot change that.",
				  limit);
		return false;
	}

	if (!policy_file_get_interval(pf, group, &r->interval_s, &r->in_days,
				      error))
		return false;

	for (unsigned int i = 0; i < plan->n_rules; i++) {
		const struct plan_rule *o = &plan->rules[i];

		if (o->zone == (int)zone->id && o->needle_um == r->needle_um) {
			policy_file_error(pf, error, POLICY_ERROR_VALUE, group,
					  "zone",
					  "[%s] already sets this zone and needle length.",
					  o->group);
			return false;
		}
	}

	r->zone = zone->id;
	r->group = g_strdup(group);
	plan->n_rules++;
	return true;
}

struct plan *plan_load(const struct policy *policy, const char *path,
		       GError **error)
{
	struct policy_file pf;
	struct plan *plan;
	g_auto(GStrv) groups = NULL;
	bool ok;

	g_return_val_if_fail(policy != NULL && path != NULL, NULL);

	if (!policy_file_load(&pf, path, error))
		return NULL;

	plan = g_new0(struct plan, 1);
	plan->path = g_strdup(path);

	ok = load_header(&pf, plan, error);

	groups = g_key_file_get_groups(pf.kf, NULL);
	for (size_t i = 0; ok && groups[i]; i++) {
		if (strcmp(groups[i], "plan") == 0)
			continue;
		if (!g_str_has_prefix(groups[i], "rule ")) {
			policy_file_error(&pf, error, POLICY_ERROR_UNKNOWN,
					  groups[i], NULL,
					  "a plan has only [plan] and [rule …] groups.");
			ok = false;
		} else if (plan->n_rules == PLAN_RULES_MAX) {
			policy_file_error(&pf, error, POLICY_ERROR_VALUE,
					  groups[i], NULL,
					  "a plan has at most %u rules.",
					  PLAN_RULES_MAX);
			ok = false;
		} else {
			ok = load_rule(&pf, policy, plan, groups[i], error);
		}
	}

	if (ok && plan->n_rules == 0) {
		g_set_error(error, POLICY_ERROR, POLICY_ERROR_MISSING,
			    "%s: the plan has no [rule …] group.", path);
		ok = false;
	}

	policy_file_clear(&pf);
	if (!ok) {
		plan_free(plan);
		return NULL;
	}

	return plan;
}

void plan_free(struct plan *plan)
{
	if (!plan)
		return;

	for (unsigned int i = 0; i < plan->n_rules; i++)
		g_free((char *)plan->rules[i].group);
	g_free(plan->dermatologist);
	g_free(plan->signed_on);
	g_free(plan->path);
	g_free(plan);
}

const char *plan_path(const struct plan *plan)
{
	return plan->path;
}

const char *plan_dermatologist(const struct plan *plan)
{
	return plan->dermatologist;
}

const char *plan_signed(const struct plan *plan)
{
	return plan->signed_on;
}

unsigned int plan_rule_count(const struct plan *plan)
{
	return plan->n_rules;
}

const struct plan_rule *plan_rule_get(const struct plan *plan,
				      unsigned int index)
{
	if (index >= plan->n_rules)
		return NULL;

	return &plan->rules[index];
}

const struct plan_rule *plan_find_rule(const struct plan *plan, int zone,
				       unsigned int needle_um)
{
	for (unsigned int i = 0; i < plan->n_rules; i++)
		if (plan->rules[i].zone == zone &&
		    plan->rules[i].needle_um == needle_um)
			return &plan->rules[i];

	return NULL;
}
