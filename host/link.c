/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend-independent half of the roller link: connection set-up,
 * decoding and checking of every value, and the control point.
 */
#include <string.h>

#include "link-backend.h"

/* PROTOCOL.md §8: the roller answers a command with one indication; a roller
 * that says nothing for this long is treated as gone. */
#define COMMAND_TIMEOUT_MS 5000

G_DEFINE_QUARK(dermaroll-link-error-quark, link_error)

enum link_state {
	LINK_STATE_WAITING,          /* transport not up yet */
	LINK_STATE_READING_INFO,
	LINK_STATE_CONNECTED,
	LINK_STATE_DOWN,
};

struct pending_command {
	guint id;
	struct dp_command cmd;
	link_command_func func;
	void *user_data;
	GDestroyNotify destroy;
};

struct link {
	int ref_count;
	const struct link_backend_ops *ops;
	void *backend;

	const struct link_handler *handler;
	void *user_data;

	enum link_state state;
	bool io_stopped;
	uint16_t att_mtu;
	struct dp_adv adv;
	char name[64];
	struct dp_info info;

	bool have_seq;
	uint32_t last_seq;
	struct link_counters counters;

	GQueue commands;             /* struct pending_command, head is in flight */
	bool command_sent;
	guint command_timeout, command_timeout_ms;
	guint next_command_id;
};

struct link *link_new(const struct link_backend_ops *ops, void *backend)
{
	struct link *link = g_new0(struct link, 1);

	link->ref_count = 1;
	link->ops = ops;
	link->backend = backend;
	link->state = LINK_STATE_WAITING;
	link->command_timeout_ms = COMMAND_TIMEOUT_MS;
	g_queue_init(&link->commands);
	return link;
}

struct link *link_ref(struct link *link)
{
	link->ref_count++;
	return link;
}

static void command_free(struct pending_command *pc)
{
	if (pc->destroy)
		pc->destroy(pc->user_data);
	g_free(pc);
}

/* The backend's memory stays until the last unref: a backend may be inside
 * its own dispatch (holding a reference) when the link goes down. */
static void stop_io(struct link *link)
{
	g_clear_handle_id(&link->command_timeout, g_source_remove);
	if (!link->io_stopped) {
		link->io_stopped = true;
		link->ops->close(link->backend);
	}
}

void link_unref(struct link *link)
{
	if (!link || --link->ref_count > 0)
		return;
	stop_io(link);
	link->ops->free(link->backend);
	g_queue_clear_full(&link->commands, (GDestroyNotify)command_free);
	g_free(link);
}

void link_set_handler(struct link *link, const struct link_handler *handler,
		      void *user_data)
{
	link->handler = handler;
	link->user_data = user_data;
}

void link_set_command_timeout(struct link *link, guint ms)
{
	link->command_timeout_ms = ms;
}

bool link_is_connected(const struct link *link)
{
	return link->state == LINK_STATE_CONNECTED;
}

const struct dp_info *link_info(const struct link *link)
{
	return link->state == LINK_STATE_CONNECTED ? &link->info : NULL;
}

const struct dp_adv *link_adv(const struct link *link)
{
	return &link->adv;
}

const char *link_name(const struct link *link)
{
	return link->name;
}

const struct link_counters *link_counters(const struct link *link)
{
	return &link->counters;
}

/* Ends the link once: fails every queued command, then tells the handler. */
static void link_down(struct link *link, GError *error)
{
	struct pending_command *pc;

	if (link->state == LINK_STATE_DOWN) {
		g_error_free(error);
		return;
	}
	link->state = LINK_STATE_DOWN;
	link_ref(link);
	stop_io(link);

	while ((pc = g_queue_pop_head(&link->commands))) {
		if (pc->func)
			pc->func(link, NULL, error, pc->user_data);
		command_free(pc);
	}
	if (link->handler && link->handler->disconnected)
		link->handler->disconnected(link, error, link->user_data);
	g_error_free(error);
	link_unref(link);
}

void link_close(struct link *link)
{
	link_down(link, g_error_new_literal(LINK_ERROR, LINK_ERROR_CLOSED,
					    "The connection to the roller was closed."));
}

void link_backend_lost(struct link *link, GError *error)
{
	link_down(link, error);
}

static void report_problem(struct link *link, enum link_problem problem,
			   const char *detail)
{
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
			 "MESSAGE", "roller link: %s", detail,
			 "DERMAROLL_LINK_PROBLEM", "%d", (int)problem);
	if (link->handler && link->handler->problem)
		link->handler->problem(link, problem, detail, link->user_data);
}

/* ---- Control point ---- */

static void send_next_command(struct link *link);

static void finish_command(struct link *link, const struct dp_response *rsp,
			   const GError *error)
{
	struct pending_command *pc = g_queue_pop_head(&link->commands);

	g_clear_handle_id(&link->command_timeout, g_source_remove);
	link->command_sent = false;
	if (!pc)
		return;
	link_ref(link);
	if (pc->func)
		pc->func(link, rsp, error, pc->user_data);
	command_free(pc);
	if (link->state == LINK_STATE_CONNECTED)
		send_next_command(link);
	link_unref(link);
}

static gboolean command_timed_out(gpointer data)
{
	struct link *link = data;

	link->command_timeout = 0;
	link_down(link, g_error_new_literal(LINK_ERROR, LINK_ERROR_TIMEOUT,
		"The roller stopped answering. Check that it is switched on and "
		"close by, then connect again."));
	return G_SOURCE_REMOVE;
}

static void send_next_command(struct link *link)
{
	struct pending_command *pc = g_queue_peek_head(&link->commands);
	uint8_t buf[DP_MAX_FRAME];
	size_t len;
	GError *error = NULL;

	if (!pc || link->command_sent || link->state != LINK_STATE_CONNECTED)
		return;
	/* Our own encoder refusing our own command is a programming error. */
	if (dp_command_encode(&pc->cmd, buf, sizeof(buf), &len) != DP_OK) {
		g_autoptr(GError) bad = g_error_new(LINK_ERROR, LINK_ERROR_PROTOCOL,
			"Internal error: command 0x%02x could not be encoded.", pc->cmd.opcode);
		g_critical("%s", bad->message);
		finish_command(link, NULL, bad);
		return;
	}
	if (!link->ops->write(link->backend, DP_CHAR_CONTROL, buf, len, &error)) {
		link_down(link, error);
		return;
	}
	link->command_sent = true;
	link->command_timeout = g_timeout_add(link->command_timeout_ms,
					      command_timed_out, link);
}

guint link_command(struct link *link, const struct dp_command *cmd,
		   link_command_func func, void *user_data, GDestroyNotify destroy)
{
	struct pending_command *pc;
	guint id;

	if (link->state != LINK_STATE_CONNECTED)
		return 0;
	pc = g_new0(struct pending_command, 1);
	id = pc->id = ++link->next_command_id;
	pc->cmd = *cmd;
	pc->func = func;
	pc->user_data = user_data;
	pc->destroy = destroy;
	g_queue_push_tail(&link->commands, pc);
	/* May fail the command (and free pc) at once if the write fails. */
	send_next_command(link);
	return id;
}

static void handle_response(struct link *link, const uint8_t *buf, size_t len)
{
	struct pending_command *pc = g_queue_peek_head(&link->commands);
	struct dp_response rsp;
	enum dp_err err = dp_response_decode(buf, len, &rsp);
	g_autofree char *detail = NULL;

	if (err != DP_OK) {
		link->counters.malformed++;
		detail = g_strdup_printf("malformed control-point answer (%s)", dp_strerror(err));
		report_problem(link, LINK_PROBLEM_MALFORMED, detail);
		return;
	}
	if (!pc || !link->command_sent || rsp.opcode != pc->cmd.opcode) {
		/* An answer nobody asked for: not trusted, not fatal. */
		link->counters.replays++;
		detail = g_strdup_printf("unexpected control-point answer to opcode 0x%02x",
					 rsp.opcode);
		report_problem(link, LINK_PROBLEM_REPLAY, detail);
		return;
	}
	finish_command(link, &rsp, NULL);
}

void link_backend_write_result(struct link *link, enum dp_char chr, uint8_t att_status)
{
	g_autoptr(GError) error = NULL;

	if (chr != DP_CHAR_CONTROL || att_status == DP_ATT_OK || !link->command_sent)
		return;
	error = g_error_new(LINK_ERROR, LINK_ERROR_REFUSED,
		"The roller refused the request (Bluetooth error 0x%02x). "
		"Try pairing the roller again.", att_status);
	finish_command(link, NULL, error);
}

/* ---- Incoming frames ---- */

/* Frames are walked twice: first to check every record, so that a frame
 * with one bad record is dropped whole instead of half used. */
static enum dp_err check_records(struct dp_record_iter it)
{
	struct dp_record rec;

	while (dp_record_next(&it, &rec) > 0)
		;
	return it.err;
}

static void deliver_records(struct link *link, struct dp_record_iter it,
			    uint64_t time_ms, bool from_history)
{
	const struct link_handler *h = link->handler;
	struct dp_record rec;

	while (dp_record_next(&it, &rec) > 0 && link->state == LINK_STATE_CONNECTED) {
		switch (rec.type) {
		case DP_REC_FORCE:
			link->counters.force_samples += rec.u.force.count;
			if (h && h->force)
				h->force(link, time_ms, &rec.u.force, link->user_data);
			break;
		case DP_REC_PASS:
			if (from_history)
				link->counters.passes_history++;
			else
				link->counters.passes_live++;
			if (h && h->pass)
				h->pass(link, &rec.u.pass, from_history, link->user_data);
			break;
		case DP_REC_STATUS:
			if (h && h->status)
				h->status(link, &rec.u.status, link->user_data);
			break;
		case DP_REC_LOG_END:
			if (h && h->log_end)
				h->log_end(link, &rec.u.log_end, link->user_data);
			break;
		}
	}
}

static void malformed(struct link *link, const char *what, enum dp_err err)
{
	g_autofree char *detail = g_strdup_printf("malformed %s frame dropped (%s)",
						  what, dp_strerror(err));

	link->counters.malformed++;
	report_problem(link, LINK_PROBLEM_MALFORMED, detail);
}

/* PROTOCOL.md §11.5: seq is +1 per STREAM frame.  A jump forward loses
 * frames (the passes in them come back through the offline log); a step
 * back is a replay and is dropped. */
static bool stream_seq_ok(struct link *link, uint32_t seq)
{
	g_autofree char *detail = NULL;

	if (!link->have_seq || seq == link->last_seq + 1) {
		link->have_seq = true;
		link->last_seq = seq;
		return true;
	}
	if (seq > link->last_seq) {
		link->counters.gaps++;
		link->counters.missing_frames += seq - link->last_seq - 1;
		detail = g_strdup_printf("%u stream frame(s) missing before frame %u",
					 seq - link->last_seq - 1, seq);
		link->last_seq = seq;
		report_problem(link, LINK_PROBLEM_GAP, detail);
		return true;
	}
	link->counters.replays++;
	detail = g_strdup_printf("stream frame %u repeated after frame %u: dropped",
				 seq, link->last_seq);
	report_problem(link, LINK_PROBLEM_REPLAY, detail);
	return false;
}

static void handle_stream(struct link *link, const uint8_t *buf, size_t len)
{
	struct dp_stream_head head;
	struct dp_record_iter it;
	enum dp_err err = dp_stream_decode(buf, len, &head, &it);

	if (err == DP_OK)
		err = check_records(it);
	if (err != DP_OK) {
		malformed(link, "stream", err);
		return;
	}
	if (!stream_seq_ok(link, head.seq))
		return;
	link->counters.stream_frames++;
	deliver_records(link, it, head.time_ms, false);
}

static void handle_history(struct link *link, const uint8_t *buf, size_t len)
{
	struct dp_record_iter it;
	enum dp_err err = dp_history_decode(buf, len, &it);

	if (err == DP_OK)
		err = check_records(it);
	if (err != DP_OK) {
		malformed(link, "history", err);
		return;
	}
	link->counters.history_frames++;
	deliver_records(link, it, 0, true);
}

void link_backend_value(struct link *link, enum dp_char chr, const uint8_t *buf, size_t len)
{
	if (link->state != LINK_STATE_CONNECTED)
		return;
	link_ref(link);
	switch (chr) {
	case DP_CHAR_STREAM:
		handle_stream(link, buf, len);
		break;
	case DP_CHAR_HISTORY:
		handle_history(link, buf, len);
		break;
	case DP_CHAR_CONTROL:
		handle_response(link, buf, len);
		break;
	default:
		break;
	}
	link_unref(link);
}

/* ---- Set-up: HELLO / connected -> read INFO -> subscribe -> connected ---- */

void link_backend_ready(struct link *link, uint16_t att_mtu, const struct dp_adv *adv,
			const char *name)
{
	GError *error = NULL;

	if (link->state != LINK_STATE_WAITING)
		return;
	/* PROTOCOL.md §2.4: smaller packets cannot carry a pass record. */
	if (att_mtu < DP_MIN_ATT_MTU) {
		link_down(link, g_error_new(LINK_ERROR, LINK_ERROR_CONNECT,
			"The Bluetooth connection to the roller is too limited (packets of "
			"%u bytes, at least %u needed). Update the computer's Bluetooth "
			"software, or try another Bluetooth adapter.", att_mtu, DP_MIN_ATT_MTU));
		return;
	}
	link->att_mtu = att_mtu;
	link->adv = *adv;
	g_strlcpy(link->name, name ? name : "", sizeof(link->name));
	link->state = LINK_STATE_READING_INFO;
	if (!link->ops->read(link->backend, DP_CHAR_INFO, &error))
		link_down(link, error);
}

static GError *info_error(uint8_t att_status, enum dp_err err)
{
	if (att_status == DP_ATT_INSUFFICIENT_ENCRYPTION ||
	    att_status == DP_ATT_INSUFFICIENT_AUTHENTICATION)
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_REFUSED,
			"The roller will only talk over a paired connection. "
			"Pair it first: hold its button until the light blinks, then "
			"run 'dermaroll pair'.");
	if (att_status != DP_ATT_OK)
		return g_error_new(LINK_ERROR, LINK_ERROR_REFUSED,
			"The roller refused to say what it is (Bluetooth error 0x%02x).",
			att_status);
	if (err == DP_ERR_VERSION)
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_VERSION,
			"This roller uses a newer protocol than this version of dermaroll. "
			"Update dermaroll, then connect again.");
	return g_error_new(LINK_ERROR, LINK_ERROR_PROTOCOL,
		"The roller sent information dermaroll cannot read (%s). "
		"Switch the roller off and on, then connect again.", dp_strerror(err));
}

static gboolean subscribe_all(struct link *link, GError **error)
{
	return link->ops->subscribe(link->backend, DP_CHAR_CONTROL, 2, error) &&
	       link->ops->subscribe(link->backend, DP_CHAR_STREAM, 1, error) &&
	       link->ops->subscribe(link->backend, DP_CHAR_HISTORY, 1, error);
}

void link_backend_read_result(struct link *link, enum dp_char chr, uint8_t att_status,
			      const uint8_t *buf, size_t len)
{
	enum dp_err err = DP_OK;
	GError *error = NULL;

	if (chr != DP_CHAR_INFO || link->state != LINK_STATE_READING_INFO)
		return;
	if (att_status == DP_ATT_OK)
		err = dp_info_decode(buf, len, &link->info);
	if (att_status != DP_ATT_OK || err != DP_OK) {
		link_down(link, info_error(att_status, err));
		return;
	}
	if (!subscribe_all(link, &error)) {
		link_down(link, error);
		return;
	}
	link->state = LINK_STATE_CONNECTED;
	link->have_seq = false;
	if (link->handler && link->handler->connected) {
		link_ref(link);
		link->handler->connected(link, &link->info, link->user_data);
		link_unref(link);
	}
}
