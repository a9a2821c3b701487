/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconnection with backoff for the engine's roller link (reconnect.h).
 * A new link stays ours until it has connected and its serial matched
 * (PROTOCOL.md §9.5); only then does the engine get it, so that the sync it
 * starts at once (§11.4) never runs against the wrong roller.
 */
#define G_LOG_DOMAIN "dermaroll-reconnect"

#include <string.h>

#include "reconnect.h"

#define DELAY_FIRST_MS 1000u
#define DELAY_MAX_MS 30000u

struct reconnect {
	struct engine *engine;
	reconnect_link_func make_link;
	void *user_data;
	GDestroyNotify destroy;

	const struct reconnect_handler *handler;
	void *handler_data;
	reconnect_delay_func delay_func;
	void *delay_data;

	char *serial;
	enum reconnect_state state;
	unsigned int attempt;        /* of this series, from 1 */
	unsigned int failures;       /* in a row since the last good link */
	guint timer;
	gint64 due_us;
	struct link *pending;        /* connecting, not yet the engine's */
	/* engine_set_link() may close the engine's old link, whose
	 * disconnection comes back through reconnect_connection(). */
	bool handing_over;
	GError *error;
	bool refused;                /* the last attempt was refused */
	unsigned int drops, connections;
};

G_DEFINE_QUARK(reconnect-error-quark, reconnect_error)

const char *reconnect_state_name(enum reconnect_state state)
{
	switch (state) {
	case RECONNECT_IDLE:
		return "idle";
	case RECONNECT_CONNECTING:
		return "connecting";
	case RECONNECT_CONNECTED:
		return "connected";
	case RECONNECT_WAITING:
		return "waiting";
	case RECONNECT_GAVE_UP:
		return "gave-up";
	}
	return "unknown";
}

guint reconnect_delay_ms(unsigned int attempt)
{
	/* 1 s doubling: 30 s is reached after 5 steps; no shift overflow. */
	return attempt >= 5 ? DELAY_MAX_MS : MIN(DELAY_FIRST_MS << attempt, DELAY_MAX_MS);
}

/* What no later attempt can change: a roller that is not the recorded one,
 * speaks a newer protocol, or refuses this computer (not paired, or no
 * longer).  REFUSED also covers a read that BlueZ failed while the link was
 * still settling (org.bluez.Error.Failed on ReadValue), so it counts only
 * when the attempt before it was refused too. */
static bool permanent(const struct reconnect *rc, const GError *error)
{
	if (error->domain == RECONNECT_ERROR)
		return true;
	if (error->domain != LINK_ERROR)
		return false;
	if (error->code == LINK_ERROR_VERSION)
		return true;
	return error->code == LINK_ERROR_REFUSED && rc->refused;
}

static void set_error(struct reconnect *rc, GError *error)
{
	g_clear_error(&rc->error);
	rc->error = error;
}

static void drop_pending(struct reconnect *rc)
{
	struct link *link = rc->pending;

	if (!link)
		return;
	rc->pending = NULL;
	link_set_handler(link, NULL, NULL);
	/* Even before it is up: a BlueZ link cancels its Connect(), which
	 * bluetoothd would otherwise finish on its own (link-bluez.c). */
	link_close(link);
	link_unref(link);
}

static void attempt(struct reconnect *rc);

static gboolean on_timer(gpointer data)
{
	struct reconnect *rc = data;

	rc->timer = 0;
	rc->due_us = 0;
	attempt(rc);
	return G_SOURCE_REMOVE;
}

static void gave_up(struct reconnect *rc, GError *error)
{
	set_error(rc, error);
	rc->state = RECONNECT_GAVE_UP;
	g_clear_handle_id(&rc->timer, g_source_remove);
	g_info("reconnect: gave up: %s", error->message);
	if (rc->handler && rc->handler->gave_up)
		rc->handler->gave_up(rc, rc->error, rc->handler_data);
}

/* The link went down or an attempt failed: try again after the backoff,
 * unless retrying cannot help. */
static void failed(struct reconnect *rc, GError *error)
{
	guint delay;

	if (permanent(rc, error)) {
		gave_up(rc, error);
		return;
	}
	rc->refused = error->domain == LINK_ERROR && error->code == LINK_ERROR_REFUSED;
	set_error(rc, error);
	delay = rc->delay_func ? rc->delay_func(rc->failures, rc->delay_data)
			       : reconnect_delay_ms(rc->failures);
	rc->failures++;
	rc->state = RECONNECT_WAITING;
	rc->due_us = g_get_monotonic_time() + (gint64)delay * 1000;
	g_clear_handle_id(&rc->timer, g_source_remove);
	rc->timer = g_timeout_add(delay, on_timer, rc);
	g_info("reconnect: %s; trying again in %u ms", error->message, delay);
	if (rc->handler && rc->handler->waiting)
		rc->handler->waiting(rc, delay, rc->error, rc->handler_data);
}

static void pending_connected(struct link *link, const struct dp_info *info, void *data)
{
	struct reconnect *rc = data;

	/* §9.5: a bonded roller whose serial is not the recorded one is
	 * refused, before anything of it reaches the history. */
	if (rc->serial && strcmp(rc->serial, info->serial) != 0) {
		GError *error = g_error_new(RECONNECT_ERROR, RECONNECT_ERROR_WRONG_ROLLER,
			"The roller at this address says it is %s, but the history "
			"knows this address as the roller %s, so dermaroll will not "
			"use it. If the roller was replaced, pair the new one with "
			"'dermaroll pair'.", info->serial, rc->serial);

		drop_pending(rc);
		gave_up(rc, error);
		return;
	}
	if (!rc->serial)
		rc->serial = g_strdup(info->serial);

	rc->pending = NULL;
	rc->refused = false;
	g_clear_error(&rc->error);
	rc->state = RECONNECT_CONNECTED;
	rc->connections++;
	g_info("reconnect: %s connected (attempt %u)", info->serial, rc->attempt);
	rc->attempt = 0;
	rc->handing_over = true;
	engine_set_link(rc->engine, link);
	rc->handing_over = false;
	link_unref(link);
	if (rc->handler && rc->handler->connected)
		rc->handler->connected(rc, info, rc->handler_data);
}

static void pending_disconnected(struct link *link, const GError *error, void *data)
{
	struct reconnect *rc = data;

	drop_pending(rc);
	failed(rc, g_error_copy(error));
}

static const struct link_handler pending_handler = {
	.connected = pending_connected,
	.disconnected = pending_disconnected,
};

static void attempt(struct reconnect *rc)
{
	GError *error = NULL;
	struct link *link;

	rc->attempt++;
	rc->state = RECONNECT_CONNECTING;
	if (rc->handler && rc->handler->connecting)
		rc->handler->connecting(rc, rc->attempt, rc->handler_data);
	link = rc->make_link(rc->user_data, &error);
	if (!link) {
		if (!error)
			error = g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT,
						    "Could not reach the roller.");
		failed(rc, error);
		return;
	}
	rc->pending = link;
	link_set_handler(link, &pending_handler, rc);
	if (link_is_connected(link))
		pending_connected(link, link_info(link), rc);
}

struct reconnect *reconnect_new(struct engine *engine, reconnect_link_func make_link,
				void *user_data, GDestroyNotify destroy)
{
	struct reconnect *rc = g_new0(struct reconnect, 1);

	rc->engine = engine;
	rc->make_link = make_link;
	rc->user_data = user_data;
	rc->destroy = destroy;
	return rc;
}

void reconnect_free(struct reconnect *rc)
{
	if (!rc)
		return;
	g_clear_handle_id(&rc->timer, g_source_remove);
	drop_pending(rc);
	g_clear_error(&rc->error);
	g_free(rc->serial);
	if (rc->destroy)
		rc->destroy(rc->user_data);
	g_free(rc);
}

void reconnect_set_handler(struct reconnect *rc, const struct reconnect_handler *handler,
			   void *user_data)
{
	rc->handler = handler;
	rc->handler_data = user_data;
}

void reconnect_set_delay_func(struct reconnect *rc, reconnect_delay_func func,
			      void *user_data)
{
	rc->delay_func = func;
	rc->delay_data = user_data;
}

void reconnect_set_serial(struct reconnect *rc, const char *serial)
{
	g_free(rc->serial);
	rc->serial = g_strdup(serial);
}

gboolean reconnect_start(struct reconnect *rc)
{
	if (rc->state != RECONNECT_IDLE)
		return FALSE;
	attempt(rc);
	return TRUE;
}

void reconnect_connection(struct reconnect *rc, bool connected, const char *message)
{
	if (rc->handing_over || rc->state != RECONNECT_CONNECTED)
		return;
	/* A good connection is one that synced: a link that drops before
	 * (a roller still disconnecting from its last host, say) keeps the
	 * backoff climbing. */
	if (connected) {
		rc->failures = 0;
		return;
	}
	/* The engine keeps its dropped link and pauses; the next link comes
	 * after the first step of the backoff. */
	rc->drops++;
	failed(rc, g_error_new_literal(LINK_ERROR, LINK_ERROR_LOST,
				       message ? message : "The roller disconnected."));
}

enum reconnect_state reconnect_state(const struct reconnect *rc)
{
	return rc->state;
}

unsigned int reconnect_attempt(const struct reconnect *rc)
{
	if (rc->state == RECONNECT_WAITING)
		return rc->attempt + 1;
	return rc->attempt;
}

guint reconnect_remaining_ms(const struct reconnect *rc)
{
	gint64 left;

	if (rc->state != RECONNECT_WAITING)
		return 0;
	left = rc->due_us - g_get_monotonic_time();
	return left > 0 ? (guint)((left + 999) / 1000) : 0;
}

const GError *reconnect_error(const struct reconnect *rc)
{
	return rc->error;
}

unsigned int reconnect_drops(const struct reconnect *rc)
{
	return rc->drops;
}

unsigned int reconnect_connections(const struct reconnect *rc)
{
	return rc->connections;
}

const char *reconnect_serial(const struct reconnect *rc)
{
	return rc->serial;
}
