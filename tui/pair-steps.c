/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The steps after Pair() (pair-steps.h).
 */
#include <string.h>

#include "cmd-common.h"
#include "pair-steps.h"

struct pair_info_read {
	struct link *link;
	guint timer, idle;
	pair_info_func func;
	void *user_data;
	bool have_info;
	struct dp_info info;
	char *name;
	GError *error;
};

/* The link is closed and func called from an idle, never from inside
 * the link's own callback. */
static gboolean info_read_report(gpointer data)
{
	struct pair_info_read *r = data;
	pair_info_func func = r->func;
	void *user_data = r->user_data;
	struct dp_info info = r->info;
	bool have_info = r->have_info;
	g_autofree char *name = g_steal_pointer(&r->name);
	g_autoptr(GError) error = g_steal_pointer(&r->error);

	r->idle = 0;
	pair_info_read_cancel(r);
	func(have_info ? &info : NULL, name, error, user_data);
	return G_SOURCE_REMOVE;
}

static void info_read_end(struct pair_info_read *r, const struct dp_info *info,
			  const char *name, const GError *error)
{
	link_set_handler(r->link, NULL, NULL);
	if (r->timer) {
		g_source_remove(r->timer);
		r->timer = 0;
	}
	if (info) {
		r->info = *info;
		r->have_info = true;
	}
	r->name = g_strdup(name);
	r->error = error ? g_error_copy(error) : NULL;
	r->idle = g_idle_add(info_read_report, r);
}

static void on_connected(struct link *link, const struct dp_info *info, void *data)
{
	info_read_end(data, info, link_name(link), NULL);
}

static void on_disconnected(struct link *link, const GError *error, void *data)
{
	info_read_end(data, NULL, NULL, error);
}

static const struct link_handler info_handler = {
	.connected = on_connected,
	.disconnected = on_disconnected,
};

static gboolean on_timeout(gpointer data)
{
	struct pair_info_read *r = data;
	g_autoptr(GError) error = g_error_new_literal(LINK_ERROR, LINK_ERROR_TIMEOUT,
		"It did not answer in time: switch it off and on, then pair it again "
		"(no pairing mode needed now).");

	r->timer = 0;
	info_read_end(r, NULL, NULL, error);
	return G_SOURCE_REMOVE;
}

struct pair_info_read *pair_info_read_start(struct link *link, guint timeout_ms,
					    pair_info_func func, void *user_data)
{
	struct pair_info_read *r = g_new0(struct pair_info_read, 1);

	r->link = link_ref(link);
	r->func = func;
	r->user_data = user_data;
	r->timer = g_timeout_add(timeout_ms, on_timeout, r);
	link_set_handler(link, &info_handler, r);
	return r;
}

void pair_info_read_cancel(struct pair_info_read *r)
{
	if (!r)
		return;
	if (r->timer)
		g_source_remove(r->timer);
	if (r->idle)
		g_source_remove(r->idle);
	link_set_handler(r->link, NULL, NULL);
	/* Closed here, not at the last unref: a caller that keeps a
	 * reference (to wait for the disconnection, cmd-bluez.h) must not
	 * keep the roller connected, nor a Connect() still running. */
	link_close(r->link);
	link_unref(r->link);
	g_free(r->name);
	g_clear_error(&r->error);
	g_free(r);
}

bool pair_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!g_utf8_validate(name, -1, NULL) || n == 0 || n > PAIR_NAME_MAX_BYTES)
		return false;
	for (const char *c = name; *c; c = g_utf8_next_char(c))
		if (g_unichar_iscntrl(g_utf8_get_char(c)))
			return false;
	return true;
}

gboolean pair_record(struct store *store, const struct policy *policy,
		     const struct dp_info *info, const char *name, const char *address,
		     int64_t now_ms, struct pair_record *out, GError **error)
{
	memset(out, 0, sizeof(*out));
	if (!store_roller_update(store, info->serial, info->firmware, now_ms, &out->roller_id,
				 error) ||
	    !store_roller_set_address(store, out->roller_id, address, error) ||
	    (name && !store_roller_rename(store, out->roller_id, name, error)) ||
	    !store_head_fit(store, out->roller_id, info->head_serial, info->needle_um, now_ms,
			    info->head_uses, NULL, error))
		return FALSE;
	out->refuse_um = policy_refuse_from_um(policy);
	out->head_refused = info->needle_um >= out->refuse_um;
	return TRUE;
}

char *pair_head_text(const struct dp_info *info, const struct pair_record *rec)
{
	g_autofree char *mm = cmd_format_mm(info->needle_um);
	g_autofree char *limit = cmd_format_mm(rec->refuse_um);

	if (rec->head_refused)
		return g_strdup_printf("Refused: its head %s has %s mm needles. Needles of %s mm "
				       "or longer are for clinics only, so dermaroll refuses "
				       "every session with this head. Fit a shorter head, then "
				       "run 'dermaroll rollers new-head %s'.",
				       info->head_serial, mm, limit, info->serial);
	return g_strdup_printf("Its head %s has %s mm needles and has been used %u times.",
			       info->head_serial, mm, info->head_uses);
}
