/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's roller link over a socketpair, against a scripted peer (as
 * BlueZ's unit/test-gatt.c does): the test plays the roller's side message
 * by message and checks what the link does and reports.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "dp/link-msg.h"
#include "link.h"

struct fixture {
	int peer;                    /* the roller's end */
	struct link *link;

	/* what the handler saw */
	bool connected;
	GError *disconnect_error;
	unsigned force_records, passes, statuses, log_ends, history_passes;
	unsigned problems[3];
	uint32_t last_pass_seq;

	/* command answers */
	unsigned answers;
	struct dp_response last_rsp;
	GError *command_error;
};

static void on_connected(struct link *link, const struct dp_info *info, void *data)
{
	struct fixture *f = data;

	f->connected = true;
}

static void on_disconnected(struct link *link, const GError *error, void *data)
{
	struct fixture *f = data;

	g_assert_null(f->disconnect_error);
	f->disconnect_error = g_error_copy(error);
}

static void on_force(struct link *link, uint64_t time_ms, const struct dp_force *force,
		     void *data)
{
	((struct fixture *)data)->force_records++;
}

static void on_pass(struct link *link, const struct dp_pass *pass, bool from_history,
		    void *data)
{
	struct fixture *f = data;

	if (from_history)
		f->history_passes++;
	else
		f->passes++;
	f->last_pass_seq = pass->seq;
}

static void on_status(struct link *link, const struct dp_status *status, void *data)
{
	((struct fixture *)data)->statuses++;
}

static void on_log_end(struct link *link, const struct dp_log_end *end, void *data)
{
	((struct fixture *)data)->log_ends++;
}

static void on_problem(struct link *link, enum link_problem problem, const char *detail,
		       void *data)
{
	struct fixture *f = data;

	g_assert_cmpint(problem, <, 3);
	g_assert_nonnull(detail);
	f->problems[problem]++;
}

static const struct link_handler handler = {
	.connected = on_connected,
	.disconnected = on_disconnected,
	.force = on_force,
	.pass = on_pass,
	.status = on_status,
	.log_end = on_log_end,
	.problem = on_problem,
};

/* ---- the peer's side ---- */

static void peer_send(struct fixture *f, const struct dp_msg *msg)
{
	uint8_t buf[DP_MSG_MAX];
	size_t len;

	g_assert_cmpint(dp_msg_encode(msg, buf, sizeof(buf), &len), ==, DP_OK);
	g_assert_cmpint(send(f->peer, buf, len, 0), ==, (ssize_t)len);
}

static void peer_send_raw(struct fixture *f, const void *buf, size_t len)
{
	g_assert_cmpint(send(f->peer, buf, len, 0), ==, (ssize_t)len);
}

static void peer_value(struct fixture *f, uint8_t op, enum dp_char chr,
		       const uint8_t *value, size_t len)
{
	struct dp_msg msg = { .op = op, .chr = chr, .value = value, .value_len = len };

	peer_send(f, &msg);
}

/* Runs the main loop until the peer has a message, and decodes it into
 * *msg (value copied into store). */
static void peer_expect(struct fixture *f, uint8_t op, enum dp_char chr,
			struct dp_msg *msg, uint8_t *store)
{
	uint8_t buf[DP_MSG_MAX];
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	ssize_t n;

	for (;;) {
		n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(dp_msg_decode(buf, (size_t)n, msg), ==, DP_OK);
	g_assert_cmpint(msg->op, ==, op);
	g_assert_cmpint(msg->chr, ==, chr);
	if (msg->value_len) {
		memcpy(store, msg->value, msg->value_len);
		msg->value = store;
	}
}

static void spin(void)
{
	/* Let the link read everything the peer sent. */
	for (int i = 0; i < 20; i++)
		while (g_main_context_iteration(NULL, FALSE))
			;
}

static void make_info(struct dp_info *info)
{
	*info = (struct dp_info) {
		.needle_um = 500, .head_uses = 3, .force_scale_pm = 1000,
		.ticks_per_10mm = 40, .warn_force_cn = 500, .clock_ms = 1000,
	};
	strcpy(info->firmware, "1.0.0");
	strcpy(info->serial, "DR-TEST-0001");
	strcpy(info->head_serial, "H-7");
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int fds[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), ==, 0);
	f->peer = fds[0];
	f->link = link_socket_new(fds[1], &error);
	g_assert_no_error(error);
	link_set_handler(f->link, &handler, f);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	link_set_handler(f->link, NULL, NULL);
	link_unref(f->link);
	if (f->peer >= 0)
		close(f->peer);
	g_clear_error(&f->disconnect_error);
	g_clear_error(&f->command_error);
	spin();
}

static void send_hello_mtu(struct fixture *f, uint16_t att_mtu)
{
	struct dp_msg hello = { .op = DP_MSG_HELLO, .att_mtu = att_mtu,
				.adv = { .flags = 0, .proto_major = 1 } };

	strcpy(hello.name, "Roller");
	peer_send(f, &hello);
}

static void send_hello(struct fixture *f)
{
	send_hello_mtu(f, 247);
}

/* HELLO, INFO read answered, three subscriptions: the normal set-up. */
static void connect_peer(struct fixture *f)
{
	struct dp_info info;
	struct dp_msg msg;
	uint8_t store[DP_MSG_MAX], buf[DP_MAX_FRAME];
	size_t len;

	send_hello(f);
	peer_expect(f, DP_MSG_READ, DP_CHAR_INFO, &msg, store);
	make_info(&info);
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &len), ==, DP_OK);
	{
		struct dp_msg rsp = { .op = DP_MSG_READ_RESULT, .chr = DP_CHAR_INFO,
				      .status = DP_ATT_OK, .value = buf, .value_len = len };
		peer_send(f, &rsp);
	}
	peer_expect(f, DP_MSG_SUBSCRIBE, DP_CHAR_CONTROL, &msg, store);
	g_assert_cmpint(msg.status, ==, 2);
	peer_expect(f, DP_MSG_SUBSCRIBE, DP_CHAR_STREAM, &msg, store);
	g_assert_cmpint(msg.status, ==, 1);
	peer_expect(f, DP_MSG_SUBSCRIBE, DP_CHAR_HISTORY, &msg, store);
	g_assert_cmpint(msg.status, ==, 1);
	spin();
	g_assert_true(f->connected);
	g_assert_true(link_is_connected(f->link));
	g_assert_cmpstr(link_info(f->link)->serial, ==, "DR-TEST-0001");
	g_assert_cmpstr(link_name(f->link), ==, "Roller");
}

/* A STREAM frame with seq, one FORCE record and, if pass_seq, one PASS. */
static size_t stream_frame(uint8_t *buf, uint32_t seq, uint32_t pass_seq)
{
	struct dp_stream_head head = { .seq = seq, .time_ms = 5000 };
	struct dp_force force = { .period_ms = 5, .count = 2, .cn = { 150, 160 } };
	struct dp_pass pass = {
		.seq = pass_seq, .start_ms = 4000, .duration_ms = 600, .distance_mm = 35,
		.direction = DP_DIR_FORWARD, .angle_deg = 90, .mean_force_cn = 200,
		.peak_force_cn = 260, .session = 1, .zone = DP_ZONE_FOREHEAD,
	};
	struct dp_writer w;

	dp_stream_begin(&w, buf, DP_MAX_FRAME, &head);
	g_assert_cmpint(dp_put_force(&w, &force), ==, DP_OK);
	if (pass_seq)
		g_assert_cmpint(dp_put_pass(&w, &pass), ==, DP_OK);
	return dp_frame_finish(&w);
}

static void send_stream(struct fixture *f, uint32_t seq, uint32_t pass_seq)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t len = stream_frame(buf, seq, pass_seq);

	g_assert_cmpuint(len, >, 0);
	peer_value(f, DP_MSG_NOTIFY, DP_CHAR_STREAM, buf, len);
}

static void test_connect(struct fixture *f, gconstpointer data)
{
	connect_peer(f);
	g_assert_null(f->disconnect_error);
}

static void test_stream_in_order(struct fixture *f, gconstpointer data)
{
	connect_peer(f);
	for (uint32_t seq = 1; seq <= 10; seq++)
		send_stream(f, seq, seq % 2 ? seq : 0);
	spin();
	g_assert_cmpuint(f->force_records, ==, 10);
	g_assert_cmpuint(f->passes, ==, 5);
	g_assert_cmpuint(f->last_pass_seq, ==, 9);
	g_assert_cmpuint(link_counters(f->link)->stream_frames, ==, 10);
	g_assert_cmpuint(link_counters(f->link)->gaps, ==, 0);
	g_assert_cmpuint(link_counters(f->link)->force_samples, ==, 20);
}

/* Frames 4 and 5 never arrive, then 3 comes again: a gap of two, a replay. */
static void test_stream_gap_and_replay(struct fixture *f, gconstpointer data)
{
	const struct link_counters *c;

	connect_peer(f);
	send_stream(f, 1, 0);
	send_stream(f, 2, 0);
	send_stream(f, 3, 1);
	send_stream(f, 6, 0);
	send_stream(f, 3, 1);
	send_stream(f, 7, 0);
	spin();
	c = link_counters(f->link);
	g_assert_cmpuint(c->stream_frames, ==, 5);
	g_assert_cmpuint(c->gaps, ==, 1);
	g_assert_cmpuint(c->missing_frames, ==, 2);
	g_assert_cmpuint(c->replays, ==, 1);
	g_assert_cmpuint(f->problems[LINK_PROBLEM_GAP], ==, 1);
	g_assert_cmpuint(f->problems[LINK_PROBLEM_REPLAY], ==, 1);
	/* The replayed pass was not handed on a second time. */
	g_assert_cmpuint(f->passes, ==, 1);
	g_assert_cmpuint(f->force_records, ==, 5);
	g_assert_true(link_is_connected(f->link));
}

/* A frame whose second record is bad is dropped whole: its good FORCE
 * record before the bad one is not used. */
static void test_robustness_bad_record(struct fixture *f, gconstpointer data)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	connect_peer(f);
	len = stream_frame(buf, 1, 5);
	buf[len - 2] = 99;           /* PASS zone byte: out of range */
	peer_value(f, DP_MSG_NOTIFY, DP_CHAR_STREAM, buf, len);
	send_stream(f, 2, 0);
	spin();
	g_assert_cmpuint(f->problems[LINK_PROBLEM_MALFORMED], ==, 1);
	g_assert_cmpuint(link_counters(f->link)->malformed, ==, 1);
	g_assert_cmpuint(f->force_records, ==, 1);
	g_assert_cmpuint(f->passes, ==, 0);
	g_assert_true(link_is_connected(f->link));
}

static void test_robustness_truncated_frames(struct fixture *f, gconstpointer data)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	connect_peer(f);
	len = stream_frame(buf, 1, 5);
	for (size_t cut = 1; cut < len; cut++)
		peer_value(f, DP_MSG_NOTIFY, DP_CHAR_STREAM, buf, cut);
	peer_value(f, DP_MSG_NOTIFY, DP_CHAR_HISTORY, buf, len);   /* wrong frame type */
	spin();
	g_assert_cmpuint(link_counters(f->link)->malformed, ==, len);
	g_assert_cmpuint(f->force_records + f->passes + f->history_passes, ==, 0);
	g_assert_true(link_is_connected(f->link));
}

static void test_history(struct fixture *f, gconstpointer data)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_log_end end = { .first_seq = 1, .next_seq = 3, .sent = 2 };
	size_t len;

	connect_peer(f);
	dp_history_begin(&w, buf, sizeof(buf));
	for (uint32_t seq = 1; seq <= 2; seq++) {
		struct dp_pass p = { .seq = seq, .direction = DP_DIR_BACKWARD, .duration_ms = 500,
				     .distance_mm = 30, .mean_force_cn = 100, .peak_force_cn = 120 };

		g_assert_cmpint(dp_put_pass(&w, &p), ==, DP_OK);
	}
	g_assert_cmpint(dp_put_log_end(&w, &end), ==, DP_OK);
	len = dp_frame_finish(&w);
	peer_value(f, DP_MSG_NOTIFY, DP_CHAR_HISTORY, buf, len);
	spin();
	g_assert_cmpuint(f->history_passes, ==, 2);
	g_assert_cmpuint(f->log_ends, ==, 1);
	g_assert_cmpuint(link_counters(f->link)->passes_history, ==, 2);
}

static void on_answer(struct link *link, const struct dp_response *rsp, const GError *error,
		      void *data)
{
	struct fixture *f = data;

	f->answers++;
	g_clear_error(&f->command_error);
	if (error)
		f->command_error = g_error_copy(error);
	else
		f->last_rsp = *rsp;
}

static void answer(struct fixture *f, const struct dp_response *rsp)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	g_assert_cmpint(dp_response_encode(rsp, buf, sizeof(buf), &len), ==, DP_OK);
	peer_value(f, DP_MSG_INDICATE, DP_CHAR_CONTROL, buf, len);
}

/* Two commands queued: the second goes out only after the first's answer,
 * and every indication is confirmed. */
static void test_commands_in_order(struct fixture *f, gconstpointer data)
{
	struct dp_command start = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_NOSE };
	struct dp_command ack = { .opcode = DP_OP_ACK, .u.seq = 41 };
	struct dp_command got;
	struct dp_msg msg, wr = { .op = DP_MSG_WRITE_RESULT, .chr = DP_CHAR_CONTROL };
	uint8_t store[DP_MSG_MAX];

	connect_peer(f);
	g_assert_cmpuint(link_command(f->link, &start, on_answer, f, NULL), >, 0);
	g_assert_cmpuint(link_command(f->link, &ack, on_answer, f, NULL), >, 0);

	peer_expect(f, DP_MSG_WRITE, DP_CHAR_CONTROL, &msg, store);
	g_assert_cmpint(dp_command_decode(msg.value, msg.value_len, &got), ==, DP_OK);
	g_assert_cmpint(got.opcode, ==, DP_OP_START_SESSION);
	g_assert_cmpint(got.u.zone, ==, DP_ZONE_NOSE);
	peer_send(f, &wr);
	spin();
	/* Nothing else may be written before the answer. */
	g_assert_cmpint(recv(f->peer, store, sizeof(store), MSG_DONTWAIT), ==, -1);
	answer(f, &(struct dp_response) { .opcode = DP_OP_START_SESSION, .u.start.session = 12 });
	peer_expect(f, DP_MSG_CONFIRM, DP_CHAR_CONTROL, &msg, store);
	peer_expect(f, DP_MSG_WRITE, DP_CHAR_CONTROL, &msg, store);
	g_assert_cmpuint(f->answers, ==, 1);
	g_assert_cmpint(f->last_rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(f->last_rsp.u.start.session, ==, 12);
	g_assert_cmpint(dp_command_decode(msg.value, msg.value_len, &got), ==, DP_OK);
	g_assert_cmpint(got.opcode, ==, DP_OP_ACK);
	g_assert_cmpuint(got.u.seq, ==, 41);
	peer_send(f, &wr);
	answer(f, &(struct dp_response) { .opcode = DP_OP_ACK, .result = DP_RES_OUT_OF_RANGE });
	spin();
	g_assert_cmpuint(f->answers, ==, 2);
	g_assert_cmpint(f->last_rsp.result, ==, DP_RES_OUT_OF_RANGE);
	g_assert_null(f->command_error);
}

static void test_command_refused(struct fixture *f, gconstpointer data)
{
	struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };
	struct dp_msg msg, wr = { .op = DP_MSG_WRITE_RESULT, .chr = DP_CHAR_CONTROL,
				  .status = DP_ATT_INSUFFICIENT_ENCRYPTION };
	uint8_t store[DP_MSG_MAX];

	connect_peer(f);
	link_command(f->link, &stop, on_answer, f, NULL);
	peer_expect(f, DP_MSG_WRITE, DP_CHAR_CONTROL, &msg, store);
	peer_send(f, &wr);
	spin();
	g_assert_cmpuint(f->answers, ==, 1);
	g_assert_error(f->command_error, LINK_ERROR, LINK_ERROR_REFUSED);
	g_assert_true(link_is_connected(f->link));
}

static void test_command_timeout(struct fixture *f, gconstpointer data)
{
	struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };
	struct dp_msg msg;
	uint8_t store[DP_MSG_MAX];

	connect_peer(f);
	link_set_command_timeout(f->link, 50);
	link_command(f->link, &stop, on_answer, f, NULL);
	link_command(f->link, &stop, on_answer, f, NULL);
	peer_expect(f, DP_MSG_WRITE, DP_CHAR_CONTROL, &msg, store);
	while (!f->disconnect_error)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_TIMEOUT);
	/* Both commands were answered with the error, none is left waiting. */
	g_assert_cmpuint(f->answers, ==, 2);
	g_assert_error(f->command_error, LINK_ERROR, LINK_ERROR_TIMEOUT);
	g_assert_false(link_is_connected(f->link));
	g_assert_cmpuint(link_command(f->link, &stop, on_answer, f, NULL), ==, 0);
}

static void test_robustness_unasked_answer(struct fixture *f, gconstpointer data)
{
	connect_peer(f);
	answer(f, &(struct dp_response) { .opcode = DP_OP_ACK, .u.log_count = 0 });
	spin();
	g_assert_cmpuint(f->problems[LINK_PROBLEM_REPLAY], ==, 1);
	g_assert_true(link_is_connected(f->link));
}

static void test_peer_closes(struct fixture *f, gconstpointer data)
{
	struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };
	struct dp_msg msg;
	uint8_t store[DP_MSG_MAX];

	connect_peer(f);
	link_command(f->link, &stop, on_answer, f, NULL);
	peer_expect(f, DP_MSG_WRITE, DP_CHAR_CONTROL, &msg, store);
	close(f->peer);
	f->peer = -1;
	while (!f->disconnect_error)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_LOST);
	g_assert_error(f->command_error, LINK_ERROR, LINK_ERROR_LOST);
}

/* ---- set-up failures ---- */

static void read_info_answer(struct fixture *f, uint8_t status, const uint8_t *buf, size_t len)
{
	struct dp_msg msg;
	uint8_t store[DP_MSG_MAX];
	struct dp_msg rsp = { .op = DP_MSG_READ_RESULT, .chr = DP_CHAR_INFO,
			      .status = status, .value = buf, .value_len = len };

	send_hello(f);
	peer_expect(f, DP_MSG_READ, DP_CHAR_INFO, &msg, store);
	peer_send(f, &rsp);
	while (!f->disconnect_error && !f->connected)
		g_main_context_iteration(NULL, TRUE);
}

static void test_robustness_unencrypted(struct fixture *f, gconstpointer data)
{
	read_info_answer(f, DP_ATT_INSUFFICIENT_ENCRYPTION, NULL, 0);
	g_assert_false(f->connected);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_REFUSED);
	g_assert_nonnull(strstr(f->disconnect_error->message, "Pair"));
}

static void test_robustness_newer_major(struct fixture *f, gconstpointer data)
{
	struct dp_info info;
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	make_info(&info);
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &len), ==, DP_OK);
	buf[0] = 0x20;               /* major 2 */
	read_info_answer(f, DP_ATT_OK, buf, len);
	g_assert_false(f->connected);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_VERSION);
	g_assert_nonnull(strstr(f->disconnect_error->message, "Update dermaroll"));
}

/* An ATT MTU too small for a PASS record: refused before anything is read. */
static void test_robustness_small_mtu(struct fixture *f, gconstpointer data)
{
	uint8_t store[DP_MSG_MAX];

	send_hello_mtu(f, DP_MIN_ATT_MTU - 1);
	while (!f->disconnect_error)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_CONNECT);
	g_assert_cmpint(recv(f->peer, store, sizeof(store), MSG_DONTWAIT), <=, 0);
}

static void test_robustness_garbage_info(struct fixture *f, gconstpointer data)
{
	const uint8_t junk[] = { 0x10, 0x05, 0x00, 0x01, 0xff };

	read_info_answer(f, DP_ATT_OK, junk, sizeof(junk));
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_PROTOCOL);
}

static void test_robustness_garbage_message(struct fixture *f, gconstpointer data)
{
	const uint8_t junk[] = { 0xee, 0x01, 0x02 };

	connect_peer(f);
	peer_send_raw(f, junk, sizeof(junk));
	while (!f->disconnect_error)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_PROTOCOL);
}

static void close_on_pass(struct link *link, const struct dp_pass *pass, bool from_history,
			  void *data)
{
	struct fixture *f = data;

	f->passes++;
	link_close(link);
}

/* The engine may close the link from inside a handler while the backend is
 * still dispatching a burst of frames: nothing after the close is delivered. */
static void test_close_from_handler(struct fixture *f, gconstpointer data)
{
	static struct link_handler closing;

	closing = handler;
	closing.pass = close_on_pass;
	connect_peer(f);
	link_set_handler(f->link, &closing, f);
	for (uint32_t seq = 1; seq <= 5; seq++)
		send_stream(f, seq, seq);
	while (!f->disconnect_error)
		g_main_context_iteration(NULL, TRUE);
	spin();
	g_assert_cmpuint(f->passes, ==, 1);
	g_assert_error(f->disconnect_error, LINK_ERROR, LINK_ERROR_CLOSED);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/link/connect", test_connect);
	ADD("/link/stream/in-order", test_stream_in_order);
	ADD("/link/stream/gap-and-replay", test_stream_gap_and_replay);
	ADD("/link/history", test_history);
	ADD("/link/command/in-order", test_commands_in_order);
	ADD("/link/command/refused", test_command_refused);
	ADD("/link/command/timeout", test_command_timeout);
	ADD("/link/peer-closes", test_peer_closes);
	ADD("/link/close-from-handler", test_close_from_handler);
	ADD("/link/robustness/bad-record-drops-frame", test_robustness_bad_record);
	ADD("/link/robustness/truncated-frames", test_robustness_truncated_frames);
	ADD("/link/robustness/unasked-answer", test_robustness_unasked_answer);
	ADD("/link/robustness/unencrypted", test_robustness_unencrypted);
	ADD("/link/robustness/newer-major", test_robustness_newer_major);
	ADD("/link/robustness/small-mtu", test_robustness_small_mtu);
	ADD("/link/robustness/garbage-info", test_robustness_garbage_info);
	ADD("/link/robustness/garbage-message", test_robustness_garbage_message);
	return g_test_run();
}
