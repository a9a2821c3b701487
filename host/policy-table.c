/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading the safety table, data/safety-limits.conf: every group and key is
 * checked, and every limit against the others, before the policy uses it.
 * SAFETY.md is the source of every number in the table.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "policy.h"
#include "policy-config.h"
#include "policy-file.h"
#include "policy-private.h"

#define POLICY_TEXT_MAX 200
#define POLICY_INFO_MAX 400

/*
 * The one number kept in code, as a guard on the data: a table may tighten
 * the home needle limit but never loosen it (SAFETY.md "Overrides": needles
 * of 1.5 mm or longer are never allowed at home, even with an override).
 */
#define POLICY_HOME_CEILING_UM 1500

G_DEFINE_QUARK(dermaroll-policy-error-quark, policy_error)

/* ---- Loading ---- */

static bool load_table_group(const struct policy_file *pf, struct policy *p,
			     GError **error)
{
	static const char *const keys[] = { "format", "version", "date", NULL };
	unsigned int format;

	if (!policy_file_require_group(pf, "table", error))
		return false;

	/* The format first: a newer file may have keys this build lacks. */
	if (!policy_file_get_uint(pf, "table", "format", 1, 999999, &format,
				  error))
		return false;
	if (format != POLICY_TABLE_FORMAT) {
		policy_file_error(pf, error, POLICY_ERROR_FORMAT, "table",
				  "format",
				  "the table has format %u, but this dermaroll reads format %u.",
				  format, POLICY_TABLE_FORMAT);
		return false;
	}

	return policy_file_check_keys(pf, "table", keys, error) &&
	       policy_file_get_uint(pf, "table", "version", 1, 999999,
				    &p->version, error) &&
	       policy_file_get_date(pf, "table", "date", &p->date, error);
}

static int compare_rows(gconstpointer a, gconstpointer b)
{
	const struct row *ra = a, *rb = b;

	if (ra->up_to_um != rb->up_to_um)
		return ra->up_to_um > rb->up_to_um ? 1 : -1;

	/* Equal lengths are an error; name them in a stable order. */
	return strcmp(ra->group, rb->group);
}

static bool load_rows(const struct policy_file *pf, struct policy *p,
		      char **groups, GError **error)
{
	static const char *const keys[] = {
		"up_to_mm", "interval_days", "interval_hours", NULL
	};

	for (size_t i = 0; groups[i]; i++) {
		struct row *r;

		if (!g_str_has_prefix(groups[i], "needle "))
			continue;
		if (p->n_rows == POLICY_ROWS_MAX) {
			policy_file_error(pf, error, POLICY_ERROR_VALUE,
					  groups[i], NULL,
					  "a table has at most %u [needle …] rows.",
					  POLICY_ROWS_MAX);
			return false;
		}

		r = &p->rows[p->n_rows++];
		r->group = groups[i];
		if (!policy_file_check_keys(pf, r->group, keys, error) ||
		    !policy_file_get_decimal(pf, r->group, "up_to_mm", 3, 1,
					     POLICY_HOME_CEILING_UM, "mm",
					     &r->up_to_um, error) ||
		    !policy_file_get_interval(pf, r->group, &r->iv.s,
					      &r->iv.in_days, error))
			return false;
	}

	if (p->n_rows == 0) {
		g_set_error(error, POLICY_ERROR, POLICY_ERROR_MISSING,
			    "%s: the table has no [needle …] interval rows.",
			    pf->path);
		return false;
	}

	qsort(p->rows, p->n_rows, sizeof(p->rows[0]), compare_rows);

	for (unsigned int i = 1; i < p->n_rows; i++) {
		const struct row *prev = &p->rows[i - 1], *r = &p->rows[i];

		if (r->up_to_um == prev->up_to_um) {
			policy_file_error(pf, error, POLICY_ERROR_VALUE,
					  r->group, "up_to_mm",
					  "[%s] has the same length.",
					  prev->group);
			return false;
		}
		/* SAFETY.md: longer needles never need less time. */
		if (r->iv.s < prev->iv.s) {
			policy_file_error(pf, error, POLICY_ERROR_VALUE,
					  r->group,
					  r->iv.in_days ? "interval_days" :
							  "interval_hours",
					  "a longer needle cannot need a shorter interval than [%s].",
					  prev->group);
			return false;
		}
	}

	return true;
}

static bool load_home(const struct policy_file *pf, struct policy *p,
		      GError **error)
{
	static const char *const keys[] = { "refuse_from_mm", NULL };
	const struct row *last;

	if (!policy_file_require_group(pf, "home", error) ||
	    !policy_file_check_keys(pf, "home", keys, error) ||
	    !policy_file_get_decimal(pf, "home", "refuse_from_mm", 3, 1,
				     POLICY_HOME_CEILING_UM, "mm",
				     &p->refuse_from_um, error))
		return false;

	last = &p->rows[p->n_rows - 1];
	if (p->refuse_from_um <= last->up_to_um) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, "home",
				  "refuse_from_mm",
				  "it must be longer than the longest row, [%s].",
				  last->group);
		return false;
	}

	return true;
}

static bool load_classes(const struct policy_file *pf, struct policy *p,
			 char **groups, GError **error)
{
	static const char *const keys[] = {
		"max_needle_mm", "interval_days", "interval_hours", NULL
	};

	for (size_t i = 0; groups[i]; i++) {
		const char *group = groups[i];
		enum zone_class zc;
		struct class_rule *c;

		if (!g_str_has_prefix(group, "class "))
			continue;
		if (!zone_class_from_name(group + strlen("class "), &zc)) {
			policy_file_error(pf, error, POLICY_ERROR_UNKNOWN, group,
					  NULL,
					  "the zone classes are face, body and scalp.");
			return false;
		}
		if (!policy_file_check_keys(pf, group, keys, error))
			return false;

		c = &p->classes[zc];
		if (g_key_file_has_key(pf->kf, group, "max_needle_mm", NULL)) {
			if (!policy_file_get_decimal(pf, group, "max_needle_mm",
						     3, 1, POLICY_HOME_CEILING_UM,
						     "mm", &c->max_um, error))
				return false;
			if (c->max_um >= p->refuse_from_um) {
				policy_file_error(pf, error, POLICY_ERROR_VALUE,
						  group, "max_needle_mm",
						  "it must be shorter than [home] refuse_from_mm.");
				return false;
			}
			c->has_max = true;
		}
		if (g_key_file_has_key(pf->kf, group, "interval_days", NULL) ||
		    g_key_file_has_key(pf->kf, group, "interval_hours", NULL)) {
			if (!policy_file_get_interval(pf, group, &c->iv.s,
						      &c->iv.in_days, error))
				return false;
			c->has_interval = true;
		}
		if (!c->has_max && !c->has_interval) {
			policy_file_error(pf, error, POLICY_ERROR_MISSING, group,
					  NULL,
					  "a class needs max_needle_mm, an interval, or both.");
			return false;
		}
	}

	return true;
}

static bool load_passes(const struct policy_file *pf, struct policy *p,
			GError **error)
{
	static const char *const keys[] = {
		"target_per_direction", "max_per_direction", "max_per_zone",
		NULL
	};
	struct policy_passes *ps = &p->passes;

	if (!policy_file_require_group(pf, "passes", error) ||
	    !policy_file_check_keys(pf, "passes", keys, error) ||
	    !policy_file_get_uint(pf, "passes", "target_per_direction", 1, 100,
				  &ps->target_per_direction, error) ||
	    !policy_file_get_uint(pf, "passes", "max_per_direction", 1, 100,
				  &ps->max_per_direction, error) ||
	    !policy_file_get_uint(pf, "passes", "max_per_zone", 1, 300,
				  &ps->max_per_zone, error))
		return false;

	if (ps->max_per_direction < ps->target_per_direction) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, "passes",
				  "max_per_direction",
				  "the maximum is below target_per_direction.");
		return false;
	}
	if (ps->max_per_zone < ps->max_per_direction) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, "passes",
				  "max_per_zone",
				  "the maximum per zone is below max_per_direction.");
		return false;
	}

	return true;
}

static bool load_pressure(const struct policy_file *pf, struct policy *p,
			  GError **error)
{
	static const char *const keys[] = {
		"too_light_below_n", "target_max_n", "warn_above_n", NULL
	};
	struct policy_pressure_bands *b = &p->pressure;

	if (!policy_file_require_group(pf, "pressure", error) ||
	    !policy_file_check_keys(pf, "pressure", keys, error) ||
	    !policy_file_get_decimal(pf, "pressure", "too_light_below_n", 2, 1,
				     10000, "N", &b->too_light_below_cn,
				     error) ||
	    !policy_file_get_decimal(pf, "pressure", "target_max_n", 2, 1,
				     10000, "N", &b->target_max_cn, error) ||
	    !policy_file_get_decimal(pf, "pressure", "warn_above_n", 2, 1,
				     10000, "N", &b->warn_above_cn, error))
		return false;

	if (b->target_max_cn <= b->too_light_below_cn) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, "pressure",
				  "target_max_n",
				  "the target's top must be above too_light_below_n.");
		return false;
	}
	if (b->warn_above_cn < b->target_max_cn) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, "pressure",
				  "warn_above_n",
				  "the warning band must not start below target_max_n.");
		return false;
	}

	return true;
}

static bool load_head(const struct policy_file *pf, struct policy *p,
		      GError **error)
{
	static const char *const keys[] = {
		"remind_at_uses", "refuse_at_uses", "refuse_after_days", NULL
	};

	if (!policy_file_require_group(pf, "head", error) ||
	    !policy_file_check_keys(pf, "head", keys, error) ||
	    !policy_file_get_uint(pf, "head", "remind_at_uses", 1, 1000,
				  &p->remind_at_uses, error) ||
	    !policy_file_get_uint(pf, "head", "refuse_at_uses", 1, 1000,
				  &p->refuse_at_uses, error) ||
	    !policy_file_get_uint(pf, "head", "refuse_after_days", 1, 3650,
				  &p->refuse_after_days, error))
		return false;

	if (p->remind_at_uses > p->refuse_at_uses) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, "head",
				  "remind_at_uses",
				  "the reminder must come no later than refuse_at_uses.");
		return false;
	}

	return true;
}

static bool load_override(const struct policy_file *pf, struct policy *p,
			  GError **error)
{
	static const char *const keys[] = { "min_chars", "min_words", NULL };

	return policy_file_require_group(pf, "override", error) &&
	       policy_file_check_keys(pf, "override", keys, error) &&
	       policy_file_get_uint(pf, "override", "min_chars", 1,
				    OVERRIDE_MAX_CHARS, &p->override_min_chars,
				    error) &&
	       policy_file_get_uint(pf, "override", "min_words", 1, 50,
				    &p->override_min_words, error);
}

static bool valid_id(const char *id)
{
	if (!*id)
		return false;

	for (const char *c = id; *c; c++)
		if (!g_ascii_islower(*c) && !g_ascii_isdigit(*c) && *c != '-')
			return false;

	return true;
}

/* The ids listed in [@list_group] items, each with its own group
 * "@prefix<id>"; checks ids, duplicates and the count. */
static char **load_item_list(const struct policy_file *pf,
			     const char *list_group, const char *prefix,
			     unsigned int min, unsigned int max, GError **error)
{
	g_auto(GStrv) items = NULL;
	unsigned int n;

	if (!g_key_file_has_key(pf->kf, list_group, "items", NULL)) {
		policy_file_error(pf, error, POLICY_ERROR_MISSING, list_group,
				  NULL, "the key “items” is missing.");
		return NULL;
	}
	items = g_key_file_get_string_list(pf->kf, list_group, "items", NULL,
					   NULL);
	if (!items)
		items = g_new0(char *, 1);

	n = g_strv_length(items);
	for (unsigned int i = 0; i < n; i++) {
		g_autofree char *group = NULL;

		g_strstrip(items[i]);
		if (!valid_id(items[i])) {
			policy_file_error(pf, error, POLICY_ERROR_VALUE,
					  list_group, "items",
					  "“%s” is not an id (a-z, 0-9 and -).",
					  items[i]);
			return NULL;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(items[i], items[j]) == 0) {
				policy_file_error(pf, error, POLICY_ERROR_VALUE,
						  list_group, "items",
						  "“%s” is listed twice.",
						  items[i]);
				return NULL;
			}
		}
		group = g_strconcat(prefix, items[i], NULL);
		if (!policy_file_require_group(pf, group, error))
			return NULL;
	}
	if (n < min || n > max) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, list_group,
				  "items", "there must be %u to %u items.", min,
				  max);
		return NULL;
	}

	return g_steal_pointer(&items);
}

static bool load_checklist(const struct policy_file *pf, struct policy *p,
			   GError **error)
{
	static const char *const list_keys[] = {
		"items", "information", NULL
	};
	static const char *const keys[] = {
		"question", "reason", "advice", "scope", "refuse_if", NULL
	};
	g_auto(GStrv) items = NULL;

	if (!policy_file_require_group(pf, "checklist", error) ||
	    !policy_file_check_keys(pf, "checklist", list_keys, error))
		return false;

	items = load_item_list(pf, "checklist", "checklist ", 1,
			       POLICY_CHECKLIST_MAX, error);
	if (!items)
		return false;
	if (!policy_file_get_text(pf, "checklist", "information",
				  POLICY_INFO_MAX, &p->checklist_information,
				  error))
		return false;

	for (unsigned int i = 0; items[i]; i++) {
		g_autofree char *group = g_strconcat("checklist ", items[i],
						     NULL);
		struct policy_checklist_item *it = &p->checklist[i];
		g_autofree char *scope = NULL;
		g_autofree char *refuse_if = NULL;
		char *question = NULL, *reason = NULL, *advice = NULL;

		if (!policy_file_check_keys(pf, group, keys, error))
			return false;

		/* Owned by the policy from here: freed with it. */
		it->id = g_strdup(items[i]);
		p->n_checklist = i + 1;

		if (!policy_file_get_text(pf, group, "question",
					  POLICY_TEXT_MAX, &question, error))
			return false;
		it->question = question;
		if (!policy_file_get_text(pf, group, "reason", POLICY_TEXT_MAX,
					  &reason, error))
			return false;
		it->reason = reason;
		if (!policy_file_get_text(pf, group, "advice", POLICY_TEXT_MAX,
					  &advice, error))
			return false;
		it->advice = advice;

		if (!policy_file_get_text(pf, group, "scope", 16, &scope,
					  error))
			return false;
		if (strcmp(scope, "zone") == 0) {
			it->scope = POLICY_SCOPE_ZONE;
		} else if (strcmp(scope, "all") == 0) {
			it->scope = POLICY_SCOPE_ALL;
		} else {
			policy_file_error(pf, error, POLICY_ERROR_VALUE, group,
					  "scope",
					  "“%s” is neither “zone” nor “all”.",
					  scope);
			return false;
		}

		if (!policy_file_get_text(pf, group, "refuse_if", 16,
					  &refuse_if, error))
			return false;
		if (strcmp(refuse_if, "yes") == 0) {
			it->refuse_if_yes = true;
		} else if (strcmp(refuse_if, "no") == 0) {
			it->refuse_if_yes = false;
		} else {
			policy_file_error(pf, error, POLICY_ERROR_VALUE, group,
					  "refuse_if",
					  "“%s” is neither “yes” nor “no”.",
					  refuse_if);
			return false;
		}
	}

	return true;
}

static bool load_aftercare(const struct policy_file *pf, struct policy *p,
			   GError **error)
{
	static const char *const list_keys[] = { "items", NULL };
	static const char *const keys[] = { "text", "hours", NULL };
	g_auto(GStrv) items = NULL;

	if (!policy_file_require_group(pf, "aftercare", error) ||
	    !policy_file_check_keys(pf, "aftercare", list_keys, error))
		return false;

	items = load_item_list(pf, "aftercare", "aftercare ", 0,
			       POLICY_AFTERCARE_MAX, error);
	if (!items)
		return false;

	for (unsigned int i = 0; items[i]; i++) {
		g_autofree char *group = g_strconcat("aftercare ", items[i],
						     NULL);
		struct policy_aftercare_item *it = &p->aftercare[i];
		char *text = NULL;

		if (!policy_file_check_keys(pf, group, keys, error))
			return false;

		it->id = g_strdup(items[i]);
		p->n_aftercare = i + 1;

		if (!policy_file_get_text(pf, group, "text", POLICY_TEXT_MAX,
					  &text, error))
			return false;
		it->text = text;
		if (!policy_file_get_uint(pf, group, "hours", 0, 8760,
					  &it->hours, error))
			return false;
	}

	return true;
}

/* Every group must be one the format has, and item groups must be listed. */
static bool check_groups(const struct policy_file *pf, char **groups,
			 GError **error)
{
	static const char *const fixed[] = {
		"table", "home", "passes", "pressure", "head", "override",
		"checklist", "aftercare", NULL
	};

	for (size_t i = 0; groups[i]; i++) {
		const char *g = groups[i];
		const char *list = NULL;
		const char *id = NULL;

		if (g_strv_contains(fixed, g) ||
		    g_str_has_prefix(g, "needle ") ||
		    g_str_has_prefix(g, "class "))
			continue;

		if (g_str_has_prefix(g, "checklist ")) {
			list = "checklist";
			id = g + strlen("checklist ");
		} else if (g_str_has_prefix(g, "aftercare ")) {
			list = "aftercare";
			id = g + strlen("aftercare ");
		}

		if (list) {
			g_auto(GStrv) items = g_key_file_get_string_list(
				pf->kf, list, "items", NULL, NULL);
			bool listed = false;

			for (size_t j = 0; items && items[j]; j++)
				if (strcmp(g_strstrip(items[j]), id) == 0)
					listed = true;
			if (listed)
				continue;

			policy_file_error(pf, error, POLICY_ERROR_UNKNOWN, g,
					  NULL,
					  "this group is not listed in [%s] items.",
					  list);
			return false;
		}

		policy_file_error(pf, error, POLICY_ERROR_UNKNOWN, g, NULL,
				  "this group is not part of the table format.");
		return false;
	}

	return true;
}

struct policy *policy_load(const char *path, GError **error)
{
	struct policy_file pf;
	struct policy *p;
	g_auto(GStrv) groups = NULL;
	bool ok;

	g_return_val_if_fail(path != NULL, NULL);

	if (!policy_file_load(&pf, path, error))
		return NULL;

	p = g_new0(struct policy, 1);
	p->path = g_strdup(path);
	groups = g_key_file_get_groups(pf.kf, NULL);

	ok = load_table_group(&pf, p, error) &&
	     check_groups(&pf, groups, error) &&
	     load_rows(&pf, p, groups, error) &&
	     load_home(&pf, p, error) &&
	     load_classes(&pf, p, groups, error) &&
	     load_passes(&pf, p, error) &&
	     load_pressure(&pf, p, error) &&
	     load_head(&pf, p, error) &&
	     load_override(&pf, p, error) &&
	     load_checklist(&pf, p, error) &&
	     load_aftercare(&pf, p, error);

	/* Row group names point into @groups, which goes now. */
	for (unsigned int i = 0; i < p->n_rows; i++)
		p->rows[i].group = NULL;
	policy_file_clear(&pf);

	if (!ok) {
		policy_free(p);
		return NULL;
	}

	return p;
}

char *policy_default_path(void)
{
	const char *dir = g_getenv(POLICY_DATA_DIR_ENV);
	char *installed, *source;

	if (dir && *dir)
		return g_build_filename(dir, POLICY_TABLE_FILE, NULL);

	/* A build that was never installed (make demo, build/tui/dermaroll)
	 * reads the table in its source tree; an installed one never does. */
	installed = g_build_filename(DERMAROLL_DATADIR, POLICY_TABLE_FILE, NULL);
	if (g_file_test(installed, G_FILE_TEST_EXISTS))
		return installed;
	source = g_build_filename(DERMAROLL_SOURCE_DATADIR, POLICY_TABLE_FILE, NULL);
	if (g_file_test(source, G_FILE_TEST_EXISTS)) {
		g_free(installed);
		return source;
	}
	g_free(source);
	return installed;
}

struct policy *policy_load_default(GError **error)
{
	g_autofree char *path = policy_default_path();

	return policy_load(path, error);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;

	for (unsigned int i = 0; i < p->n_checklist; i++) {
		struct policy_checklist_item *it = &p->checklist[i];

		g_free((char *)it->id);
		g_free((char *)it->question);
		g_free((char *)it->reason);
		g_free((char *)it->advice);
	}
	for (unsigned int i = 0; i < p->n_aftercare; i++) {
		g_free((char *)p->aftercare[i].id);
		g_free((char *)p->aftercare[i].text);
	}
	g_free(p->checklist_information);
	g_free(p->date);
	g_free(p->path);
	g_free(p);
}

const char *policy_path(const struct policy *p)
{
	return p->path;
}

unsigned int policy_table_version(const struct policy *p)
{
	return p->version;
}

const char *policy_table_date(const struct policy *p)
{
	return p->date;
}

unsigned int policy_refuse_from_um(const struct policy *p)
{
	return p->refuse_from_um;
}

unsigned int policy_checklist_count(const struct policy *p)
{
	return p->n_checklist;
}

const struct policy_checklist_item *
policy_checklist_item(const struct policy *p, unsigned int index)
{
	if (index >= p->n_checklist)
		return NULL;

	return &p->checklist[index];
}

int policy_checklist_find(const struct policy *p, const char *id)
{
	for (unsigned int i = 0; i < p->n_checklist; i++)
		if (g_strcmp0(p->checklist[i].id, id) == 0)
			return (int)i;

	return -1;
}

const char *policy_checklist_information(const struct policy *p)
{
	return p->checklist_information;
}

unsigned int policy_aftercare_count(const struct policy *p)
{
	return p->n_aftercare;
}

const struct policy_aftercare_item *
policy_aftercare_item(const struct policy *p, unsigned int index)
{
	if (index >= p->n_aftercare)
		return NULL;

	return &p->aftercare[index];
}
