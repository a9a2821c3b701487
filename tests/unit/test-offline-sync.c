/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Offline sync across dropped links (PROTOCOL.md §11.4): a virtual roller
 * with 500 passes in its offline log, rolled through the model and the
 * firmware with no host; a small host in this file syncs them over
 * socketpair(AF_UNIX, SOCK_SEQPACKET), commits them to its store in batches
 * and acks after each commit.  The link drops again and again mid-sync, from
 * either end; the host reconnects and resumes from its last ack.  At the
 * end every pass 1..500 is in the store exactly once, no pass the roller
 * confirmed as acked came over the wire again, and the roller's log is
 * empty.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "dp/codec.h"
#include "dp/link-msg.h"
#include "virtual-roller.h"

#define N_PASSES 500
#define BATCH 40                     /* records committed and acked at once */
#define SPEED 50.0
#define GUARD_S 20

enum drop_when {
	DROP_NEVER,
	DROP_AFTER_RECORDS,          /* after this many records on this link */
	DROP_AFTER_SYNC_SENT,        /* SYNC written, response not yet read */
	DROP_AFTER_ACK_SENT,         /* ACK written, response not yet read */
	DROP_AFTER_COMMIT,           /* committed, ACK not yet sent */
};

enum drop_how {
	DROP_BY_ROLLER,              /* virtual_roller_detach: the radio link goes */
	DROP_BY_HOST,                /* the host closes its end (killed host) */
};

struct drop {
	enum drop_when when;
	guint records;
	enum drop_how how;
};

struct host {
	GMainLoop *loop;
	struct virtual_roller *vr;
	int fd;
	guint watch;
	guint reconnect;

	/* The host's database: each seq once, committed before it is acked. */
	struct dp_pass store[N_PASSES + 1];
	gboolean stored[N_PASSES + 1];
	guint stored_count;
	guint32 committed_to;        /* highest seq committed */
	guint32 acked;               /* highest seq the roller confirmed acked */

	/* This link */
	GArray *pending;             /* struct dp_pass received, not committed */
	guint32 ack_sent;            /* up_to of an ACK awaiting its response */
	gboolean command_busy;
	gboolean sync_done;
	gboolean sync_sent;          /* SYNC_HISTORY sent on this link */
	guint32 sync_first;          /* first seq the SYNC response promised */
	guint32 sync_expect;         /* next seq this sync must deliver */
	guint sync_received;
	guint link_records;

	/* Bookkeeping for the assertions */
	guint wire[N_PASSES + 1];    /* times each seq came over the wire */
	guint links;
	guint syncs;
	const struct dp_pass *expected;  /* the roller's log before the sync */
	const struct drop *drops;
	guint n_drops, next_drop;
	gboolean finished;
};

static void host_connect(struct host *h);

static void link_lost(struct host *h);

/* Sends one message.  FALSE if the link is gone: the roller closed its end
 * and the host finds out here or on its next read. */
static gboolean send_msg(struct host *h, const struct dp_msg *m)
{
	uint8_t buf[DP_MSG_MAX];
	size_t len;
	ssize_t n;

	if (h->fd < 0)
		return FALSE;
	g_assert_cmpint(dp_msg_encode(m, buf, sizeof(buf), &len), ==, DP_OK);
	n = send(h->fd, buf, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		link_lost(h);
		return FALSE;
	}
	/* The roller reads far faster than this host writes: a full socket
	 * here would be a bug. */
	g_assert_cmpint(n, ==, (ssize_t)len);
	return TRUE;
}

static gboolean send_command(struct host *h, const struct dp_command *cmd)
{
	uint8_t frame[32];
	size_t len;
	struct dp_msg m = { .op = DP_MSG_WRITE, .chr = DP_CHAR_CONTROL };

	g_assert_false(h->command_busy);
	g_assert_cmpint(dp_command_encode(cmd, frame, sizeof(frame), &len), ==, DP_OK);
	m.value = frame;
	m.value_len = len;
	if (!send_msg(h, &m))
		return FALSE;
	h->command_busy = TRUE;
	return TRUE;
}

static void host_close(struct host *h)
{
	g_clear_handle_id(&h->watch, g_source_remove);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	/* A killed host loses what it had not committed. */
	g_array_set_size(h->pending, 0);
	h->command_busy = FALSE;
	h->ack_sent = 0;
	h->sync_done = FALSE;
}

static gboolean on_reconnect(gpointer data)
{
	struct host *h = data;

	h->reconnect = 0;
	host_connect(h);
	return G_SOURCE_REMOVE;
}

static void link_lost(struct host *h)
{
	host_close(h);
	if (!h->reconnect)
		h->reconnect = g_timeout_add(5, on_reconnect, h);
}

/* Drops the link now if the schedule says so.  Returns TRUE if the host's
 * end is closed; after a drop by the roller the host goes on with what is
 * already in its socket until it reads EOF, as over a radio. */
static gboolean maybe_drop(struct host *h, enum drop_when when)
{
	const struct drop *d;

	if (h->next_drop >= h->n_drops)
		return FALSE;
	d = &h->drops[h->next_drop];
	if (d->when != when || (when == DROP_AFTER_RECORDS && h->link_records < d->records))
		return FALSE;
	h->next_drop++;
	g_test_message("drop %u (when %d) on link %u after %u records, store %u, acked %u",
		       h->next_drop, when, h->links, h->link_records, h->stored_count,
		       h->acked);
	if (d->how == DROP_BY_ROLLER) {
		/* The host learns of it as EOF, on its next read. */
		virtual_roller_detach(h->vr);
		g_assert_false(virtual_roller_is_attached(h->vr));
		return FALSE;
	}
	link_lost(h);
	return TRUE;
}

/* Commits what was received (the store de-duplicates by seq), then acks
 * up to the highest contiguous committed seq. */
static void commit_and_ack(struct host *h)
{
	struct dp_command cmd = { .opcode = DP_OP_ACK };

	for (guint i = 0; i < h->pending->len; i++) {
		const struct dp_pass *p = &g_array_index(h->pending, struct dp_pass, i);

		if (!h->stored[p->seq]) {
			h->stored[p->seq] = TRUE;
			h->store[p->seq] = *p;
			h->stored_count++;
		}
	}
	g_array_set_size(h->pending, 0);
	while (h->committed_to < N_PASSES && h->stored[h->committed_to + 1])
		h->committed_to++;
	if (maybe_drop(h, DROP_AFTER_COMMIT))
		return;
	if (h->committed_to <= h->acked)
		return;
	cmd.u.seq = h->committed_to;
	if (!send_command(h, &cmd))
		return;
	h->ack_sent = cmd.u.seq;
	maybe_drop(h, DROP_AFTER_ACK_SENT);
}

static void start_sync(struct host *h)
{
	struct dp_command cmd = { .opcode = DP_OP_SYNC_HISTORY, .u.seq = h->acked + 1 };

	if (!send_command(h, &cmd))
		return;
	h->syncs++;
	h->sync_sent = TRUE;
	maybe_drop(h, DROP_AFTER_SYNC_SENT);
}

static void on_response(struct host *h, const uint8_t *buf, size_t len)
{
	struct dp_response rsp;

	g_assert_cmpint(dp_response_decode(buf, len, &rsp), ==, DP_OK);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	h->command_busy = FALSE;
	if (h->fd < 0)
		return;
	switch (rsp.opcode) {
	case DP_OP_SYNC_HISTORY:
		/* The roller holds everything after the last ack it confirmed;
		 * an ACK it read just before a drop may have freed more, but
		 * never a pass the host had not committed. */
		g_assert_cmpuint(rsp.u.sync.first_seq, >=, h->acked + 1);
		g_assert_cmpuint(rsp.u.sync.first_seq, <=, h->committed_to + 1);
		g_assert_cmpuint(rsp.u.sync.next_seq, ==, N_PASSES + 1);
		h->acked = rsp.u.sync.first_seq - 1;
		h->sync_first = h->sync_expect = rsp.u.sync.first_seq;
		h->sync_received = 0;
		break;
	case DP_OP_ACK:
		g_assert_cmpuint(h->ack_sent, >, 0);
		h->acked = h->ack_sent;
		h->ack_sent = 0;
		g_assert_cmpuint(rsp.u.log_count, ==, N_PASSES - h->acked);
		if (h->acked == N_PASSES) {
			h->finished = TRUE;
			g_main_loop_quit(h->loop);
			return;
		}
		break;
	default:
		g_assert_not_reached();
	}
	if (h->pending->len >= BATCH || (h->sync_done && h->pending->len))
		commit_and_ack(h);
}

static void on_history(struct host *h, const uint8_t *buf, size_t len)
{
	struct dp_record_iter it;
	struct dp_record rec;
	int r;

	g_assert_cmpint(dp_history_decode(buf, len, &it), ==, DP_OK);
	while ((r = dp_record_next(&it, &rec)) > 0) {
		if (rec.type == DP_REC_LOG_END) {
			/* Every record of [first, next) came, in order, none lost. */
			g_assert_cmpuint(rec.u.log_end.first_seq, ==, h->sync_first);
			g_assert_cmpuint(rec.u.log_end.next_seq, ==, N_PASSES + 1);
			g_assert_cmpuint(h->sync_expect, ==, N_PASSES + 1);
			g_assert_cmpuint(rec.u.log_end.sent, ==, h->sync_received);
			h->sync_done = TRUE;
			continue;
		}
		g_assert_cmpuint(rec.type, ==, DP_REC_PASS);
		g_assert_cmpuint(rec.u.pass.seq, >=, 1);
		g_assert_cmpuint(rec.u.pass.seq, <=, N_PASSES);
		/* Never again once the roller confirmed the ack. */
		g_assert_cmpuint(rec.u.pass.seq, >, h->acked);
		/* Exactly what the roller logged offline. */
		g_assert_cmpmem(&rec.u.pass, sizeof(rec.u.pass),
				&h->expected[rec.u.pass.seq], sizeof(rec.u.pass));
		g_assert_cmpuint(rec.u.pass.seq, ==, h->sync_expect);
		h->sync_expect++;
		h->sync_received++;
		h->wire[rec.u.pass.seq]++;
		g_array_append_val(h->pending, rec.u.pass);
		h->link_records++;
		if (maybe_drop(h, DROP_AFTER_RECORDS))
			return;
	}
	g_assert_cmpint(r, ==, 0);
	if (!h->command_busy && (h->pending->len >= BATCH || (h->sync_done && h->pending->len)))
		commit_and_ack(h);
}

static void on_msg(struct host *h, const uint8_t *buf, size_t len)
{
	struct dp_msg m, reply = { 0 };

	g_assert_cmpint(dp_msg_decode(buf, len, &m), ==, DP_OK);
	switch (m.op) {
	case DP_MSG_HELLO:
		h->links++;
		h->link_records = 0;
		h->sync_sent = FALSE;
		g_assert_cmpstr(m.name, ==, "DermaRoll DR-SIM-0001");
		g_assert_cmpuint(!!(m.adv.flags & DP_ADV_LOG_PENDING), ==,
				 dp_log_count(&virtual_roller_firmware(h->vr)->log) > 0);
		reply = (struct dp_msg) { .op = DP_MSG_SUBSCRIBE, .chr = DP_CHAR_CONTROL, .status = 2 };
		if (!send_msg(h, &reply))
			break;
		reply.chr = DP_CHAR_HISTORY;
		reply.status = 1;
		if (!send_msg(h, &reply))
			break;
		/* The last commit may not have been acked before the drop. */
		if (h->committed_to > h->acked) {
			g_array_set_size(h->pending, 0);
			commit_and_ack(h);
		} else {
			start_sync(h);
		}
		break;
	case DP_MSG_WRITE_RESULT:
		g_assert_cmpuint(m.chr, ==, DP_CHAR_CONTROL);
		g_assert_cmpuint(m.status, ==, DP_ATT_OK);
		break;
	case DP_MSG_INDICATE:
		g_assert_cmpuint(m.chr, ==, DP_CHAR_CONTROL);
		reply = (struct dp_msg) { .op = DP_MSG_CONFIRM, .chr = m.chr };
		send_msg(h, &reply);
		on_response(h, m.value, m.value_len);
		if (h->finished)
			break;
		/* A resumed link whose ack went through still needs its sync. */
		if (h->fd >= 0 && !h->command_busy && !h->finished && !h->sync_sent)
			start_sync(h);
		break;
	case DP_MSG_NOTIFY:
		g_assert_cmpuint(m.chr, ==, DP_CHAR_HISTORY);
		on_history(h, m.value, m.value_len);
		break;
	default:
		g_assert_not_reached();
	}
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer data)
{
	struct host *h = data;
	uint8_t buf[DP_MSG_MAX + 1];

	for (int i = 0; i < 64 && h->fd == fd; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return G_SOURCE_CONTINUE;
		if (n <= 0) {
			/* EOF: the roller went away. */
			h->watch = 0;
			link_lost(h);
			return G_SOURCE_REMOVE;
		}
		g_assert_cmpint(n, <=, DP_MSG_MAX);
		on_msg(h, buf, (size_t)n);
	}
	return h->fd == fd ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void host_connect(struct host *h)
{
	g_autoptr(GError) error = NULL;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	h->fd = sv[0];
	g_assert_true(virtual_roller_attach(h->vr, sv[1], &error));
	g_assert_no_error(error);
	h->watch = g_unix_fd_add(h->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, h);
}

static gboolean on_guard(gpointer data)
{
	struct host *h = data;

	g_test_fail_printf("offline sync hung: %u stored, acked %u, %u links",
			   h->stored_count, h->acked, h->links);
	g_main_loop_quit(h->loop);
	return G_SOURCE_REMOVE;
}

static void run_sync(const struct drop *drops, guint n_drops)
{
	struct virtual_roller_options opts;
	g_autoptr(GError) error = NULL;
	g_autoptr(virtual_roller) vr = NULL;
	g_autofree struct host *h = g_new0(struct host, 1);
	g_autofree struct dp_pass *expected = g_new0(struct dp_pass, N_PASSES + 1);
	const struct dp_fw *fw;
	struct dp_status st;
	guint guard;

	virtual_roller_options_default(&opts);
	opts.prefill = N_PASSES;
	opts.speed = SPEED;
	opts.autopilot = FALSE;
	vr = virtual_roller_new(&opts, &error);
	g_assert_no_error(error);
	fw = virtual_roller_firmware(vr);

	/* The prefill went through the firmware: an offline session, now
	 * closed, zone 0, clock unset. */
	dp_fw_status(fw, &st);
	g_assert_cmpuint(st.state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(st.log_count, ==, N_PASSES);
	g_assert_cmpuint(st.log_first_seq, ==, 1);
	g_assert_cmpuint(st.log_next_seq, ==, N_PASSES + 1);
	for (guint32 seq = 1; seq <= N_PASSES; seq++) {
		const struct dp_pass *p = dp_log_get(&fw->log, seq);

		g_assert_nonnull(p);
		g_assert_cmpuint(p->seq, ==, seq);
		g_assert_cmpuint(p->zone, ==, DP_ZONE_NONE);
		g_assert_cmpuint(p->session, ==, 1);
		g_assert_cmpuint(p->flags & DP_PASS_CLOCK_UNSET, ==, DP_PASS_CLOCK_UNSET);
		g_assert_cmpuint(p->over_warn_ms, ==, 0);
		expected[seq] = *p;
	}

	h->loop = g_main_loop_new(NULL, FALSE);
	h->vr = vr;
	h->fd = -1;
	h->pending = g_array_new(FALSE, FALSE, sizeof(struct dp_pass));
	h->expected = expected;
	h->drops = drops;
	h->n_drops = n_drops;
	host_connect(h);
	guard = g_timeout_add_seconds(GUARD_S, on_guard, h);
	g_main_loop_run(h->loop);
	g_source_remove(guard);

	g_assert_true(h->finished);
	g_assert_cmpuint(h->next_drop, ==, n_drops);
	g_assert_cmpuint(h->links, ==, n_drops + 1);
	/* Every pass exactly once in the store, as the roller logged it. */
	g_assert_cmpuint(h->stored_count, ==, N_PASSES);
	for (guint32 seq = 1; seq <= N_PASSES; seq++) {
		g_assert_true(h->stored[seq]);
		g_assert_cmpmem(&h->store[seq], sizeof(struct dp_pass),
				&expected[seq], sizeof(struct dp_pass));
		g_assert_cmpuint(h->wire[seq], >=, 1);
	}
	/* The roller freed everything, and only on ACK. */
	dp_fw_status(fw, &st);
	g_assert_cmpuint(st.log_count, ==, 0);
	g_assert_cmpuint(st.log_first_seq, ==, N_PASSES + 1);
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 0);

	host_close(h);
	g_clear_handle_id(&h->reconnect, g_source_remove);
	g_array_unref(h->pending);
	g_main_loop_unref(h->loop);
}

static void test_no_drop(void)
{
	run_sync(NULL, 0);
}

static void test_drops(void)
{
	static const struct drop drops[] = {
		{ DROP_AFTER_SYNC_SENT, 0, DROP_BY_ROLLER },
		{ DROP_AFTER_RECORDS, 37, DROP_BY_ROLLER },
		{ DROP_AFTER_RECORDS, 95, DROP_BY_HOST },
		{ DROP_AFTER_ACK_SENT, 0, DROP_BY_HOST },
		{ DROP_AFTER_COMMIT, 0, DROP_BY_ROLLER },
		{ DROP_AFTER_RECORDS, 1, DROP_BY_HOST },
		{ DROP_AFTER_ACK_SENT, 0, DROP_BY_ROLLER },
		{ DROP_AFTER_SYNC_SENT, 0, DROP_BY_HOST },
		{ DROP_AFTER_RECORDS, 150, DROP_BY_ROLLER },
		{ DROP_AFTER_COMMIT, 0, DROP_BY_HOST },
	};

	run_sync(drops, G_N_ELEMENTS(drops));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/offline-sync/no-drop", test_no_drop);
	g_test_add_func("/offline-sync/drops", test_drops);
	return g_test_run();
}
