/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The routine file of `dermaroll session` (routine.h): read it whole, and
 * refuse it with one sentence that names the file and what is wrong.
 */
#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "routine.h"

#define ROUTINE_FORMAT 1
/* The virtual roller's range of needle lengths (virtual-roller.h). */
#define NEEDLE_UM_MIN 100
#define NEEDLE_UM_MAX 3000

void routine_free(struct routine *r)
{
	if (!r)
		return;
	g_free(r->plan_path);
	for (unsigned int z = 0; z <= ZONE_COUNT; z++)
		g_free(r->overrides[z]);
	g_free(r);
}

static bool routine_error(GError **error, const char *path, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static bool routine_error(GError **error, const char *path, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    "The routine file %s %s", path, msg);
	return false;
}

static bool check_keys(GKeyFile *kf, const char *path, const char *group,
		       const char *const *known, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

	for (char **k = keys; k && *k; k++)
		if (!g_strv_contains(known, *k))
			return routine_error(error, path,
					     "has an unknown key '%s' in [%s].", *k, group);
	return true;
}

static char *zone_names(void)
{
	GString *names = g_string_new(NULL);

	for (unsigned int i = 0; i < ZONE_COUNT; i++)
		g_string_append_printf(names, "%s%s", i ? ", " : "",
				       zone_by_order(i)->name);
	return g_string_free(names, FALSE);
}

static bool parse_needle(const char *text, unsigned int *um)
{
	unsigned int whole = 0, frac = 0, scale = 1000;
	const char *p = text;

	if (!g_ascii_isdigit(*p))
		return false;
	for (; g_ascii_isdigit(*p); p++) {
		whole = whole * 10 + (unsigned int)(*p - '0');
		if (whole > NEEDLE_UM_MAX)
			return false;
	}
	if (*p == '.') {
		if (!g_ascii_isdigit(*++p))
			return false;
		for (; g_ascii_isdigit(*p); p++) {
			if (scale == 1)
				return false;
			scale /= 10;
			frac += (unsigned int)(*p - '0') * scale;
		}
	}
	*um = whole * 1000 + frac;
	return !*p && *um >= NEEDLE_UM_MIN && *um <= NEEDLE_UM_MAX;
}

static bool load_routine_group(GKeyFile *kf, const char *path,
			       struct routine *r, GError **error)
{
	static const char *const known[] = {
		"format", "zones", "needle_mm", "head_uses", "dermatologist_plan", NULL
	};
	g_autofree char *format = NULL, *needle = NULL, *uses = NULL, *plan = NULL;
	g_auto(GStrv) zones = NULL;
	guint64 n;

	if (!g_key_file_has_group(kf, "routine"))
		return routine_error(error, path, "has no [routine] group.");
	if (!check_keys(kf, path, "routine", known, error))
		return false;
	format = g_key_file_get_value(kf, "routine", "format", NULL);
	if (!format)
		return routine_error(error, path, "does not say its format: add format = %d to [routine].",
				     ROUTINE_FORMAT);
	if (!g_ascii_string_to_unsigned(format, 10, 1, G_MAXUINT, &n, NULL) ||
	    n != ROUTINE_FORMAT)
		return routine_error(error, path, "has format %s, and this dermaroll reads format %d.",
				     format, ROUTINE_FORMAT);

	zones = g_key_file_get_string_list(kf, "routine", "zones", NULL, NULL);
	if (!zones || !zones[0])
		return routine_error(error, path, "names no zones: list them in [routine] zones, separated by ';'.");
	for (char **z = zones; *z; z++) {
		const struct zone_info *zone = zone_lookup(*z);
		g_autofree char *names = NULL;

		if (!zone) {
			names = zone_names();
			return routine_error(error, path, "names '%s', which is not a zone; the zones are %s.",
					     g_strstrip(*z), names);
		}
		r->zones |= POLICY_ZONE_BIT(zone->id);
	}

	needle = g_key_file_get_value(kf, "routine", "needle_mm", NULL);
	if (!needle)
		return routine_error(error, path, "does not give the virtual head's needle_mm in [routine].");
	if (!parse_needle(g_strstrip(needle), &r->needle_um))
		return routine_error(error, path, "gives needle_mm = %s; write millimetres from 0.1 to 3, for example 0.5.",
				     needle);

	uses = g_key_file_get_value(kf, "routine", "head_uses", NULL);
	if (uses) {
		if (!g_ascii_string_to_unsigned(g_strstrip(uses), 10, 0, G_MAXUINT16, &n, NULL))
			return routine_error(error, path, "gives head_uses = %s; write a count from 0 to %u.",
					     uses, G_MAXUINT16);
		r->head_uses = (unsigned int)n;
	}

	plan = g_key_file_get_value(kf, "routine", "dermatologist_plan", NULL);
	if (plan) {
		g_autofree char *dir = g_path_get_dirname(path);

		g_strstrip(plan);
		r->plan_path = g_path_is_absolute(plan) ? g_strdup(plan)
			: g_build_filename(dir, plan, NULL);
	}
	return true;
}

static bool load_checklist(GKeyFile *kf, const char *path,
			   const struct policy *policy, struct routine *r,
			   GError **error)
{
	unsigned int count = policy_checklist_count(policy);
	g_autoptr(GString) missing = g_string_new(NULL);
	g_auto(GStrv) keys = NULL;

	keys = g_key_file_get_keys(kf, "checklist", NULL, NULL);
	for (char **k = keys; k && *k; k++)
		if (policy_checklist_find(policy, *k) < 0)
			return routine_error(error, path,
					     "answers '%s' in [checklist], which the checklist does not ask.", *k);

	for (unsigned int i = 0; i < count; i++) {
		const struct policy_checklist_item *it = policy_checklist_item(policy, i);
		g_autofree char *value = g_key_file_get_value(kf, "checklist", it->id, NULL);

		if (!value) {
			g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", it->id);
			continue;
		}
		g_strstrip(value);
		if (g_ascii_strcasecmp(value, "yes") == 0)
			r->checklist.answer[i] = POLICY_ANSWER_YES;
		else if (g_ascii_strcasecmp(value, "no") == 0)
			r->checklist.answer[i] = POLICY_ANSWER_NO;
		else
			return routine_error(error, path, "answers %s = %s in [checklist]; answer yes or no.",
					     it->id, value);
	}
	if (missing->len)
		return routine_error(error, path, "does not answer every checklist question: add %s to [checklist], each yes or no.",
				     missing->str);
	return true;
}

static bool load_overrides(GKeyFile *kf, const char *path,
			   const struct policy *policy, struct routine *r,
			   GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, "overrides", NULL, NULL);

	for (char **k = keys; k && *k; k++) {
		const struct zone_info *zone = zone_lookup(*k);
		g_autofree char *reason = g_key_file_get_string(kf, "overrides", *k, NULL);
		g_autoptr(GError) why = NULL;

		if (!zone) {
			g_autofree char *names = zone_names();

			return routine_error(error, path, "overrides '%s', which is not a zone; the zones are %s.",
					     *k, names);
		}
		if (!policy_check_override_reason(policy, reason, &why))
			return routine_error(error, path, "gives a reason for the %s that will not do: %s",
					     zone->phrase, why->message);
		g_free(r->overrides[zone->id]);
		r->overrides[zone->id] = g_strstrip(g_steal_pointer(&reason));
	}
	return true;
}

struct routine *routine_load(const char *path, const struct policy *policy,
			     GError **error)
{
	static const char *const groups[] = { "routine", "checklist", "overrides", NULL };
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) names = NULL;
	struct routine *r;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
			    "Could not read the routine file %s: %s.", path, err->message);
		return NULL;
	}
	names = g_key_file_get_groups(kf, NULL);
	for (char **g = names; *g; g++) {
		if (!g_strv_contains(groups, *g)) {
			routine_error(error, path, "has an unknown group [%s]; it may have [routine], [checklist] and [overrides].",
				      *g);
			return NULL;
		}
	}

	r = g_new0(struct routine, 1);
	if (!load_routine_group(kf, path, r, error) ||
	    !load_checklist(kf, path, policy, r, error) ||
	    !load_overrides(kf, path, policy, r, error)) {
		routine_free(r);
		return NULL;
	}
	return r;
}
