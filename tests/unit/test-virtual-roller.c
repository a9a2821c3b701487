/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual roller over a socketpair: options, the local link of
 * PROTOCOL.md §10 (HELLO, READ, WRITE before its indication, malformed
 * input), the autopilot, scenario waits, and back-pressure that must never
 * cost a pass.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "dp/codec.h"
#include "dp/flash.h"
#include "dp/link-msg.h"
#include "scenario.h"
#include "virtual-roller.h"

#define SPEED 50.0
#define WAIT_MS 15000

struct host {
	int fd;
	gboolean have_hello;
	struct dp_msg hello;
	GArray *ops;                 /* guint8 op of every message, in order */
	gboolean got_read;
	uint8_t read_status;
	uint8_t read_value[DP_MAX_FRAME];
	size_t read_len;
	gboolean got_write;
	uint8_t write_status;
	gboolean got_rsp;
	struct dp_response rsp;
	gboolean reading;            /* FALSE: leave messages in the socket */
	gboolean eof;

	guint32 stream_seq;
	guint stream_gaps;
	GArray *passes;              /* struct dp_pass from STREAM */
};

static void host_send(struct host *h, const struct dp_msg *m)
{
	uint8_t buf[DP_MSG_MAX];
	size_t len;

	g_assert_cmpint(dp_msg_encode(m, buf, sizeof(buf), &len), ==, DP_OK);
	g_assert_cmpint(send(h->fd, buf, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void host_stream(struct host *h, const uint8_t *buf, size_t len)
{
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	int r;

	g_assert_cmpint(dp_stream_decode(buf, len, &head, &it), ==, DP_OK);
	if (head.seq != h->stream_seq + 1)
		h->stream_gaps++;
	h->stream_seq = head.seq;
	while ((r = dp_record_next(&it, &rec)) > 0) {
		if (rec.type == DP_REC_PASS)
			g_array_append_val(h->passes, rec.u.pass);
	}
	g_assert_cmpint(r, ==, 0);
}

static void host_read(struct host *h)
{
	uint8_t buf[DP_MSG_MAX + 1];
	struct dp_msg m, confirm = { .op = DP_MSG_CONFIRM };
	ssize_t n;

	while (h->reading && !h->eof &&
	       (n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) != -1) {
		if (n == 0) {
			h->eof = TRUE;
			break;
		}
		g_assert_cmpint(dp_msg_decode(buf, (size_t)n, &m), ==, DP_OK);
		g_array_append_val(h->ops, m.op);
		switch (m.op) {
		case DP_MSG_HELLO:
			h->hello = m;
			h->have_hello = TRUE;
			break;
		case DP_MSG_READ_RESULT:
			h->got_read = TRUE;
			h->read_status = m.status;
			h->read_len = m.value_len;
			if (m.value_len)
				memcpy(h->read_value, m.value, m.value_len);
			break;
		case DP_MSG_WRITE_RESULT:
			h->got_write = TRUE;
			h->write_status = m.status;
			break;
		case DP_MSG_INDICATE:
			g_assert_cmpuint(m.chr, ==, DP_CHAR_CONTROL);
			g_assert_cmpint(dp_response_decode(m.value, m.value_len, &h->rsp), ==, DP_OK);
			h->got_rsp = TRUE;
			confirm.chr = m.chr;
			host_send(h, &confirm);
			break;
		case DP_MSG_NOTIFY:
			g_assert_cmpuint(m.chr, ==, DP_CHAR_STREAM);
			host_stream(h, m.value, m.value_len);
			break;
		default:
			g_assert_not_reached();
		}
	}
}

/* Runs the main loop (the roller) until cond holds; fails after WAIT_MS. */
#define RUN_UNTIL(h, cond) do {                                              \
	gint64 end_ = g_get_monotonic_time() + WAIT_MS * 1000;               \
	host_read(h);                                                        \
	while (!(cond)) {                                                    \
		if (g_get_monotonic_time() > end_)                           \
			g_error("timed out waiting for %s", #cond);          \
		g_main_context_iteration(NULL, TRUE);                        \
		host_read(h);                                                \
	}                                                                    \
} while (0)

static void run_for_ms(struct host *h, guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, TRUE);
		host_read(h);
	}
}

static struct host *host_new(void)
{
	struct host *h = g_new0(struct host, 1);

	h->fd = -1;
	h->reading = TRUE;
	h->ops = g_array_new(FALSE, FALSE, 1);
	h->passes = g_array_new(FALSE, FALSE, sizeof(struct dp_pass));
	return h;
}

static void host_free(struct host *h)
{
	if (h->fd >= 0)
		close(h->fd);
	g_array_unref(h->ops);
	g_array_unref(h->passes);
	g_free(h);
}
/* autoptr glue */
typedef struct host host;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(host, host_free)

static void attach(struct virtual_roller *vr, struct host *h)
{
	g_autoptr(GError) error = NULL;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	h->fd = sv[0];
	g_assert_true(virtual_roller_attach(vr, sv[1], &error));
	g_assert_no_error(error);
	g_assert_true(virtual_roller_is_attached(vr));
	RUN_UNTIL(h, h->have_hello);
}

static struct dp_response host_command(struct virtual_roller *vr, struct host *h,
				       const struct dp_command *cmd)
{
	uint8_t frame[32];
	size_t len;
	struct dp_msg m = { .op = DP_MSG_WRITE, .chr = DP_CHAR_CONTROL };

	g_assert_cmpint(dp_command_encode(cmd, frame, sizeof(frame), &len), ==, DP_OK);
	m.value = frame;
	m.value_len = len;
	h->got_write = h->got_rsp = FALSE;
	host_send(h, &m);
	RUN_UNTIL(h, h->got_rsp);
	g_assert_true(h->got_write);
	g_assert_cmpuint(h->write_status, ==, DP_ATT_OK);
	g_assert_cmpuint(h->rsp.opcode, ==, cmd->opcode);
	return h->rsp;
}

static void subscribe(struct host *h, enum dp_char chr, uint8_t mode)
{
	struct dp_msg m = { .op = DP_MSG_SUBSCRIBE, .chr = (uint8_t)chr, .status = mode };

	host_send(h, &m);
}

static struct virtual_roller *roller_new(struct virtual_roller_options *opts)
{
	g_autoptr(GError) error = NULL;
	struct virtual_roller *vr;

	vr = virtual_roller_new(opts, &error);
	g_assert_no_error(error);
	g_assert_nonnull(vr);
	return vr;
}

static void default_opts(struct virtual_roller_options *opts)
{
	virtual_roller_options_default(opts);
	opts->speed = SPEED;
}

/* ---- Options ---- */

static const struct bad_option {
	const char *name;
	guint16 needle_um;
	guint8 battery;
	guint prefill;
	double speed;
	const char *serial;
	guint16 att_mtu;
	const char *scenario;
	const char *message;
} bad_options[] = {
	{ "needle-short", .needle_um = 99,
	  .message = "the needle length must be between 100 and 3000 µm" },
	{ "needle-long", .needle_um = 3001,
	  .message = "the needle length must be between 100 and 3000 µm" },
	{ "battery", .battery = 101, .message = "the battery level must be between 0 and 100 %" },
	{ "prefill", .prefill = DP_LOG_CAPACITY + 1,
	  .message = "the prefill must be at most 4096 passes" },
	{ "speed-zero", .speed = -1, .message = "the speed must be between 0.01 and 1000" },
	{ "speed-high", .speed = 1001, .message = "the speed must be between 0.01 and 1000" },
	{ "serial-empty", .serial = "", .message = "the serial number must be 1 to 16 characters long" },
	{ "serial-long", .serial = "DR-SIM-00000000001",
	  .message = "the serial number must be 1 to 16 characters long" },
	{ "serial-control", .serial = "DR\tSIM", .message = "the serial number must be printable ASCII" },
	{ "att-mtu", .att_mtu = 99, .message = "the ATT MTU must be between 100 and 517" },
	{ "scenario-missing", .scenario = "/nonexistent/r.scenario",
	  .message = "cannot read scenario: Failed to open file “/nonexistent/r.scenario”: "
		     "No such file or directory" },
};

static void test_bad_option(gconstpointer data)
{
	const struct bad_option *c = data;
	struct virtual_roller_options opts;
	g_autoptr(GError) error = NULL;
	g_autoptr(virtual_roller) vr = NULL;

	default_opts(&opts);
	if (c->needle_um)
		opts.needle_um = c->needle_um;
	if (c->battery)
		opts.battery_pct = c->battery;
	if (c->prefill)
		opts.prefill = c->prefill;
	if (c->speed)
		opts.speed = c->speed < 0 ? 0 : c->speed;
	if (c->serial)
		opts.serial = c->serial;
	if (c->att_mtu)
		opts.att_mtu = c->att_mtu;
	opts.scenario = c->scenario;
	vr = virtual_roller_new(&opts, &error);
	g_assert_null(vr);
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, c->message);
}

static void test_bad_scenario(void)
{
	struct virtual_roller_options opts;
	g_autoptr(GError) error = NULL;
	g_autoptr(virtual_roller) vr = NULL;
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("vr-XXXXXX.scenario", &path, &error);

	g_assert_no_error(error);
	g_assert_cmpint(write(fd, "pause ms=10\nroll dir=up\n", 24), ==, 24);
	close(fd);
	default_opts(&opts);
	opts.scenario = path;
	vr = virtual_roller_new(&opts, &error);
	g_assert_null(vr);
	g_assert_error(error, SCENARIO_ERROR, SCENARIO_ERROR_VALUE);
	g_assert_true(g_str_has_prefix(error->message, path));
	g_assert_true(g_str_has_suffix(error->message, ":2: dir must be forward or backward, not 'up'"));
	g_unlink(path);
}

/* ---- The link ---- */

static void test_hello_and_info(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	struct dp_msg read = { .op = DP_MSG_READ, .chr = DP_CHAR_INFO };
	struct dp_info info;

	default_opts(&opts);
	opts.needle_um = 750;
	opts.head_uses = 3;
	opts.pairing = TRUE;
	opts.prefill = 5;
	opts.serial = "DR-TEST-42";
	vr = roller_new(&opts);
	attach(vr, h);
	g_assert_cmpuint(g_array_index(h->ops, guint8, 0), ==, DP_MSG_HELLO);
	g_assert_cmpstr(h->hello.name, ==, "DermaRoll DR-TEST-42");
	g_assert_cmpuint(h->hello.att_mtu, ==, 247);
	g_assert_cmpuint(h->hello.adv.proto_major, ==, DP_PROTO_MAJOR);
	g_assert_cmpuint(h->hello.adv.flags, ==, DP_ADV_PAIRING | DP_ADV_LOG_PENDING);

	host_send(h, &read);
	RUN_UNTIL(h, h->got_read);
	g_assert_cmpuint(h->read_status, ==, DP_ATT_OK);
	g_assert_cmpint(dp_info_decode(h->read_value, h->read_len, &info), ==, DP_OK);
	g_assert_cmpstr(info.serial, ==, "DR-TEST-42");
	g_assert_true(g_str_has_prefix(info.firmware, "sim-"));
	g_assert_cmpuint(info.needle_um, ==, 750);
	/* The prefill rolled one offline session: one more use of the head. */
	g_assert_cmpuint(info.head_uses, ==, 4);
	g_assert_cmpuint(info.ticks_per_10mm, ==, 40);
	g_assert_cmpuint(info.clock_flags, ==, 0);
	/* Six minutes of rest after the prefill, at least. */
	g_assert_cmpuint(info.clock_ms, >=, 6 * 60 * 1000);

	/* A read the firmware refuses comes back with its ATT status. */
	read.chr = DP_CHAR_STREAM;
	h->got_read = FALSE;
	host_send(h, &read);
	RUN_UNTIL(h, h->got_read);
	g_assert_cmpuint(h->read_status, ==, DP_ATT_READ_NOT_PERMITTED);
	g_assert_cmpuint(h->read_len, ==, 0);
}

/* ATT order: the write response comes before the indication it causes. */
static void test_write_result_first(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	struct dp_command cmd = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_NECK };
	struct dp_response rsp;
	guint i;

	default_opts(&opts);
	opts.autopilot = FALSE;
	vr = roller_new(&opts);
	attach(vr, h);
	subscribe(h, DP_CHAR_CONTROL, 2);
	rsp = host_command(vr, h, &cmd);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.start.session, ==, 1);
	for (i = 0; g_array_index(h->ops, guint8, i) != DP_MSG_WRITE_RESULT; i++)
		;
	g_assert_cmpuint(g_array_index(h->ops, guint8, i + 1), ==, DP_MSG_INDICATE);

	/* The control point without its subscription: refused at ATT level. */
	subscribe(h, DP_CHAR_CONTROL, 0);
	{
		uint8_t frame[32];
		size_t len;
		struct dp_msg m = { .op = DP_MSG_WRITE, .chr = DP_CHAR_CONTROL };

		cmd.opcode = DP_OP_STOP_SESSION;
		g_assert_cmpint(dp_command_encode(&cmd, frame, sizeof(frame), &len), ==, DP_OK);
		m.value = frame;
		m.value_len = len;
		h->got_write = h->got_rsp = FALSE;
		host_send(h, &m);
		RUN_UNTIL(h, h->got_write);
		g_assert_cmpuint(h->write_status, ==, DP_ATT_CCCD_IMPROPER);
		run_for_ms(h, 50);
		g_assert_false(h->got_rsp);
	}
}

static void test_busy(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	g_autoptr(GError) error = NULL;
	int sv[2];
	char c;

	default_opts(&opts);
	vr = roller_new(&opts);
	attach(vr, h);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_false(virtual_roller_attach(vr, sv[1], &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	/* The roller closed the fd it refused: its peer sees EOF. */
	g_assert_cmpint(recv(sv[0], &c, 1, MSG_DONTWAIT), ==, 0);
	close(sv[0]);
	g_assert_true(virtual_roller_is_attached(vr));

	/* Detach: the host sees EOF; then a new host may come. */
	virtual_roller_detach(vr);
	g_assert_false(virtual_roller_is_attached(vr));
	RUN_UNTIL(h, h->eof);
	close(h->fd);
	h->fd = -1;
	h->have_hello = h->eof = FALSE;
	attach(vr, h);
	/* The host leaving is noticed by the roller too. */
	close(h->fd);
	h->fd = -1;
	RUN_UNTIL(h, !virtual_roller_is_attached(vr));
}

static void test_not_seqpacket(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(GError) error = NULL;
	int sv[2];
	char c;

	default_opts(&opts);
	vr = roller_new(&opts);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_false(virtual_roller_attach(vr, sv[1], &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_assert_cmpint(recv(sv[0], &c, 1, MSG_DONTWAIT), ==, 0);
	close(sv[0]);
	g_assert_false(virtual_roller_is_attached(vr));
}

/* Malformed messages are ignored; the link goes on. */
static void test_malformed(void)
{
	const struct { const uint8_t *buf; size_t len; } bad[] = {
		{ (const uint8_t[]) { 0x02 }, 1 },                      /* truncated header */
		{ (const uint8_t[]) { 0x7f, 0x01 }, 2 },                /* unknown op */
		{ (const uint8_t[]) { DP_MSG_READ, 0x00 }, 2 },         /* chr 0 */
		{ (const uint8_t[]) { DP_MSG_READ, DP_CHAR_MAX_ + 1 }, 2 },
		{ (const uint8_t[]) { DP_MSG_READ, DP_CHAR_INFO, 0x00 }, 3 },  /* trailing */
		{ (const uint8_t[]) { DP_MSG_WRITE, DP_CHAR_CONTROL }, 2 },    /* empty value */
		{ (const uint8_t[]) { DP_MSG_SUBSCRIBE, DP_CHAR_STREAM, 3 }, 3 },
		{ (const uint8_t[]) { DP_MSG_NOTIFY, DP_CHAR_STREAM, 0x10 }, 3 }, /* wrong way */
		{ (const uint8_t[]) { DP_MSG_HELLO, 0, 23, 0, 0, 1, 0 }, 7 },    /* wrong way */
	};
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	struct dp_msg read = { .op = DP_MSG_READ, .chr = DP_CHAR_BATTERY };
	uint8_t big[DP_MSG_MAX + 100];

	default_opts(&opts);
	opts.battery_pct = 42;
	vr = roller_new(&opts);
	attach(vr, h);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(send(h->fd, bad[i].buf, bad[i].len, 0), ==, (ssize_t)bad[i].len);
	memset(big, 0, sizeof(big));
	big[0] = DP_MSG_WRITE;
	big[1] = DP_CHAR_CONTROL;
	g_assert_cmpint(send(h->fd, big, sizeof(big), 0), ==, (ssize_t)sizeof(big));
	host_send(h, &read);
	RUN_UNTIL(h, h->got_read);
	g_assert_cmpuint(h->read_status, ==, DP_ATT_OK);
	g_assert_cmpuint(h->read_len, ==, 1);
	g_assert_cmpuint(h->read_value[0], ==, 42);
	/* Only HELLO and the one answer came back. */
	g_assert_cmpuint(h->ops->len, ==, 2);
	g_assert_true(virtual_roller_is_attached(vr));
}

/* ---- What it rolls ---- */

static guint count_class(GArray *passes, guint from, guint to, guint lo, guint hi)
{
	guint n = 0;

	for (guint i = from; i < to; i++) {
		guint a = g_array_index(passes, struct dp_pass, i).angle_deg;

		n += a >= lo && a <= hi;
	}
	return n;
}

/* The autopilot rolls the zone the host starts: 3 directions x 4 passes,
 * then rests until the zone changes. */
static void test_autopilot(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	struct dp_command cmd = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_FOREHEAD };
	guint in_band = 0;

	default_opts(&opts);
	opts.seed = 7;
	vr = roller_new(&opts);
	attach(vr, h);
	/* No session, no rolling. */
	run_for_ms(h, 100);
	g_assert_true(virtual_roller_is_resting(vr));
	g_assert_cmpuint(dp_log_count(&virtual_roller_firmware(vr)->log), ==, 0);

	subscribe(h, DP_CHAR_CONTROL, 2);
	subscribe(h, DP_CHAR_STREAM, 1);
	g_assert_cmpuint(host_command(vr, h, &cmd).result, ==, DP_RES_OK);
	RUN_UNTIL(h, h->passes->len >= 12 && virtual_roller_is_resting(vr));
	run_for_ms(h, 100);
	g_assert_cmpuint(h->passes->len, ==, 12);

	cmd.opcode = DP_OP_SET_ZONE;
	cmd.u.zone = DP_ZONE_NOSE;
	g_assert_cmpuint(host_command(vr, h, &cmd).result, ==, DP_RES_OK);
	RUN_UNTIL(h, h->passes->len >= 24 && virtual_roller_is_resting(vr));
	run_for_ms(h, 100);
	g_assert_cmpuint(h->passes->len, ==, 24);
	g_assert_cmpuint(h->stream_gaps, ==, 0);

	for (guint z = 0; z < 2; z++) {
		guint from = z * 12, to = from + 12;

		/* horizontal 90, vertical 0, diagonal 45, four passes each */
		g_assert_cmpuint(count_class(h->passes, from, to, 85, 95), ==, 4);
		g_assert_cmpuint(count_class(h->passes, from, to, 40, 50), ==, 4);
		g_assert_cmpuint(count_class(h->passes, from, to, 0, 5) +
				 count_class(h->passes, from, to, 175, 179), ==, 4);
	}
	for (guint i = 0; i < 24; i++) {
		const struct dp_pass *p = &g_array_index(h->passes, struct dp_pass, i);

		g_assert_cmpuint(p->seq, ==, i + 1);
		g_assert_cmpuint(p->zone, ==, i < 12 ? DP_ZONE_FOREHEAD : DP_ZONE_NOSE);
		g_assert_cmpuint(p->direction, ==, i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD);
		if (p->mean_force_cn >= 100 && p->mean_force_cn <= 400) {
			in_band++;
			g_assert_cmpuint(p->over_warn_ms, ==, 0);
		} else {
			g_assert_cmpuint(p->mean_force_cn, >, 500);
			g_assert_cmpuint(p->over_warn_ms, >, 0);
		}
	}
	/* Mostly in the target band. */
	g_assert_cmpuint(in_band, >=, 18);
}

static const char wait_scenario[] =
	"set distance=30 speed=80 force=2.5N angle=horizontal\n"
	"roll dir=forward                 # no host yet: an offline pass\n"
	"wait zone=chin\n"
	"roll dir=forward\n"
	"roll dir=backward lift_at=15\n";

/* A scenario rolls its first part straight away and waits for the zone. */
static void test_scenario_wait(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	struct dp_command cmd = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_CHIN };
	const struct dp_fw *fw;
	int fd = g_file_open_tmp("vr-XXXXXX.scenario", &path, &error);

	g_assert_no_error(error);
	g_assert_cmpint(write(fd, wait_scenario, strlen(wait_scenario)), ==,
			(ssize_t)strlen(wait_scenario));
	close(fd);
	default_opts(&opts);
	opts.scenario = path;
	vr = roller_new(&opts);
	fw = virtual_roller_firmware(vr);
	attach(vr, h);
	RUN_UNTIL(h, dp_log_count(&fw->log) == 1 && virtual_roller_is_resting(vr));
	g_assert_cmpuint(dp_log_get(&fw->log, 1)->zone, ==, DP_ZONE_NONE);
	run_for_ms(h, 100);
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 1);

	subscribe(h, DP_CHAR_CONTROL, 2);
	subscribe(h, DP_CHAR_STREAM, 1);
	g_assert_cmpuint(host_command(vr, h, &cmd).result, ==, DP_RES_OK);
	RUN_UNTIL(h, h->passes->len >= 3 && virtual_roller_is_resting(vr));
	run_for_ms(h, 100);
	g_assert_cmpuint(h->passes->len, ==, 3);
	for (guint i = 0; i < 3; i++) {
		const struct dp_pass *p = &g_array_index(h->passes, struct dp_pass, i);

		g_assert_cmpuint(p->seq, ==, i + 2);
		g_assert_cmpuint(p->zone, ==, DP_ZONE_CHIN);
		g_assert_cmpuint(p->distance_mm, ==, i == 0 ? 30 : 15);
	}
	g_unlink(path);
}

/* Strokes queued by hand go first, then the roller rests again. */
static void test_roll_by_hand(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	struct dp_stroke s = {
		.kind = DP_STROKE_BACK_AND_FORTH, .direction = DP_DIR_FORWARD, .angle_deg = 45,
		.distance_mm = 20, .speed_mm_s = 60, .force_cn = 300,
	};
	const struct dp_fw *fw;

	default_opts(&opts);
	vr = roller_new(&opts);
	fw = virtual_roller_firmware(vr);
	attach(vr, h);
	virtual_roller_roll(vr, &s, 1);
	g_assert_false(virtual_roller_is_resting(vr));
	RUN_UNTIL(h, dp_log_count(&fw->log) == 2 && virtual_roller_is_resting(vr));
	g_assert_cmpuint(dp_log_get(&fw->log, 1)->direction, ==, DP_DIR_FORWARD);
	g_assert_cmpuint(dp_log_get(&fw->log, 1)->flags & DP_PASS_END_REVERSAL, ==,
			 DP_PASS_END_REVERSAL);
	g_assert_cmpuint(dp_log_get(&fw->log, 2)->direction, ==, DP_DIR_BACKWARD);

	virtual_roller_set_battery(vr, 15);
	virtual_roller_long_press(vr);
	{
		struct dp_status st;
		struct dp_adv adv;

		dp_fw_status(fw, &st);
		g_assert_cmpuint(st.battery_pct, ==, 15);
		dp_fw_adv(fw, &adv);
		g_assert_cmpuint(adv.flags & DP_ADV_PAIRING, ==, DP_ADV_PAIRING);
	}
	g_assert_cmpuint(virtual_roller_time(vr), >, 0);
}

/* Strokes queued in the middle of a scenario go in after the stroke in
 * progress, and the scenario then goes on where it was. */
static void test_roll_interrupts(void)
{
	static const char text[] =
		"set distance=30 speed=60 force=250 angle=vertical\n"
		"repeat 4\nroll dir=forward\nend\n";
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	struct dp_stroke s = {
		.kind = DP_STROKE_ROLL, .direction = DP_DIR_BACKWARD, .angle_deg = 90,
		.distance_mm = 20, .speed_mm_s = 60, .force_cn = 300,
	};
	const struct dp_fw *fw;
	guint backward_at = 0;
	int fd = g_file_open_tmp("vr-XXXXXX.scenario", &path, &error);

	g_assert_no_error(error);
	g_assert_cmpint(write(fd, text, strlen(text)), ==, (ssize_t)strlen(text));
	close(fd);
	default_opts(&opts);
	opts.scenario = path;
	/* Slow enough that the scenario is still rolling when the host
	 * queues its stroke, even on a loaded machine. */
	opts.speed = 5;
	vr = roller_new(&opts);
	fw = virtual_roller_firmware(vr);
	attach(vr, h);
	RUN_UNTIL(h, dp_log_count(&fw->log) == 1);
	virtual_roller_roll(vr, &s, 1);
	RUN_UNTIL(h, dp_log_count(&fw->log) == 5 && virtual_roller_is_resting(vr));
	run_for_ms(h, 100);
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 5);
	for (guint32 seq = 1; seq <= 5; seq++) {
		const struct dp_pass *p = dp_log_get(&fw->log, seq);

		if (p->direction == DP_DIR_BACKWARD) {
			g_assert_cmpuint(backward_at, ==, 0);
			backward_at = seq;
			g_assert_cmpuint(p->distance_mm, ==, 20);
		} else {
			g_assert_cmpuint(p->distance_mm, ==, 30);
		}
	}
	/* After the stroke in progress when it was queued (normally pass 2
	 * or 3), and never after the whole scenario. */
	g_assert_cmpuint(backward_at, >=, 2);
	g_assert_cmpuint(backward_at, <=, 4);
	g_unlink(path);
}

/* A host that stops reading: the roller's queue fills, notify says "not
 * now", the firmware holds its frames; when the host reads again every
 * pass arrives and the stream has no gap. */
static void test_backpressure(void)
{
	struct virtual_roller_options opts;
	g_autoptr(virtual_roller) vr = NULL;
	g_autoptr(host) h = host_new();
	struct dp_command cmd = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_HANDS };
	const struct dp_fw *fw;
	int sndbuf = 4096;
	int sv[2];
	g_autoptr(GError) error = NULL;

	default_opts(&opts);
	vr = roller_new(&opts);
	fw = virtual_roller_firmware(vr);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	/* A small socket buffer, so that it fills within a few frames. */
	g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), ==, 0);
	h->fd = sv[0];
	g_assert_true(virtual_roller_attach(vr, sv[1], &error));
	g_assert_no_error(error);
	RUN_UNTIL(h, h->have_hello);
	subscribe(h, DP_CHAR_CONTROL, 2);
	subscribe(h, DP_CHAR_STREAM, 1);
	g_assert_cmpuint(host_command(vr, h, &cmd).result, ==, DP_RES_OK);

	h->reading = FALSE;
	RUN_UNTIL(h, dp_log_count(&fw->log) >= 6);
	h->reading = TRUE;
	RUN_UNTIL(h, h->passes->len >= 12 && virtual_roller_is_resting(vr));
	run_for_ms(h, 200);
	g_assert_cmpuint(h->passes->len, ==, 12);
	g_assert_cmpuint(h->stream_gaps, ==, 0);
	for (guint i = 0; i < h->passes->len; i++)
		g_assert_cmpuint(g_array_index(h->passes, struct dp_pass, i).seq, ==, i + 1);
}

/* ---- The flash file ---- */

static char *state_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("vr-state-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

/* Removes the flash file and asserts it was the folder's only file: no
 * temporary file is left behind. */
static void state_dir_remove(const char *dir, const char *only)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_assert_cmpstr(name, ==, only);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static const struct dp_fw_ops no_ops;

/* What the file says now, read as a roller would. */
static struct dp_fw *state_read(const char *path)
{
	struct dp_fw *fw = g_new0(struct dp_fw, 1);
	struct dp_fw_config cfg;
	g_autofree char *data = NULL;
	gsize len;
	GStatBuf st;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	dp_fw_config_default(&cfg);
	dp_fw_init(fw, &cfg, &no_ops, NULL);
	g_assert_cmpint(dp_fw_flash_load(fw, (const uint8_t *)data, len), ==, DP_FLASH_OK);
	return fw;
}

/* A restarted roller goes on from its flash: seqs, sessions, the head and
 * the serial, whatever the options say. */
static void test_state_restart(void)
{
	g_autofree char *dir = state_dir();
	g_autofree char *path = g_build_filename(dir, "r.state", NULL);
	g_autofree struct dp_fw *file = NULL;
	struct virtual_roller_options opts;
	const struct dp_fw *fw;
	struct virtual_roller *vr;

	default_opts(&opts);
	opts.state = path;
	opts.prefill = 5;
	opts.needle_um = 750;
	opts.head_uses = 2;
	vr = roller_new(&opts);
	/* Written at once, before any pass could leave. */
	file = state_read(path);
	g_assert_cmpuint(file->log.next_seq, ==, 6);
	g_assert_cmpuint(file->session_counter, ==, 1);
	virtual_roller_unref(vr);
	g_clear_pointer(&file, g_free);

	opts.serial = "DR-OTHER";
	opts.needle_um = 1000;
	opts.head_uses = 0;
	opts.prefill = 3;
	vr = roller_new(&opts);
	fw = virtual_roller_firmware(vr);
	g_assert_cmpstr(virtual_roller_serial(vr), ==, "DR-SIM-0001");
	g_assert_cmpstr(fw->serial, ==, "DR-SIM-0001");
	g_assert_cmpuint(fw->cfg.needle_um, ==, 750);
	g_assert_cmpuint(fw->cfg.head_uses, ==, 4);
	g_assert_cmpuint(fw->session_counter, ==, 2);
	g_assert_cmpuint(fw->log.first_seq, ==, 1);
	g_assert_cmpuint(fw->log.next_seq, ==, 9);
	for (guint32 seq = 1; seq < 9; seq++)
		g_assert_cmpuint(dp_log_get(&fw->log, seq)->session, ==, seq <= 5 ? 1 : 2);
	virtual_roller_unref(vr);

	file = state_read(path);
	g_assert_cmpuint(file->log.next_seq, ==, 9);
	g_assert_cmpuint(file->cfg.head_uses, ==, 4);
	g_assert_cmpstr(file->serial, ==, "DR-SIM-0001");
	state_dir_remove(dir, "r.state");
}

static void check_saved_ahead(const char *path, struct host *h)
{
	g_autofree struct dp_fw *file = state_read(path);

	for (guint i = 0; i < h->passes->len; i++)
		g_assert_cmpuint(file->log.next_seq, >,
				 g_array_index(h->passes, struct dp_pass, i).seq);
}

/* A seq is in the file before the PASS record that carries it reaches the
 * host (a killed roller must not hand it out again); an ACK reaches the
 * file within the debounce. */
static void test_state_before_sent(void)
{
	g_autofree char *dir = state_dir();
	g_autofree char *path = g_build_filename(dir, "r.state", NULL);
	g_autoptr(host) h = host_new();
	struct virtual_roller_options opts;
	struct virtual_roller *vr;
	struct dp_stroke s = {
		.kind = DP_STROKE_ROLL, .direction = DP_DIR_FORWARD, .angle_deg = 90,
		.distance_mm = 20, .speed_mm_s = 80, .force_cn = 300,
	};
	struct dp_command ack = { .opcode = DP_OP_ACK };
	struct dp_response rsp;
	g_autofree struct dp_fw *file = NULL;

	default_opts(&opts);
	opts.state = path;
	vr = roller_new(&opts);
	attach(vr, h);
	subscribe(h, DP_CHAR_STREAM, 1);
	subscribe(h, DP_CHAR_CONTROL, 2);
	for (guint n = 1; n <= 4; n++) {
		virtual_roller_roll(vr, &s, 1);
		RUN_UNTIL(h, h->passes->len >= n);
		check_saved_ahead(path, h);
	}
	g_assert_cmpuint(h->passes->len, ==, 4);
	g_assert_cmpuint(g_array_index(h->passes, struct dp_pass, 3).seq, ==, 4);

	ack.u.seq = 3;
	rsp = host_command(vr, h, &ack);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.log_count, ==, 1);
	run_for_ms(h, 400);
	file = state_read(path);
	g_assert_cmpuint(file->log.first_seq, ==, 4);
	g_assert_cmpuint(file->log.next_seq, ==, 5);
	virtual_roller_unref(vr);
	state_dir_remove(dir, "r.state");
}

static void test_state_fresh(void)
{
	g_autofree char *dir = state_dir();
	g_autofree char *path = g_build_filename(dir, "r.state", NULL);
	g_autofree char *before = NULL, *after = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree struct dp_fw *file = NULL;
	struct virtual_roller_options opts;
	struct virtual_roller *vr;
	gsize len_before, len_after;

	default_opts(&opts);
	opts.state = path;
	opts.prefill = 5;
	virtual_roller_unref(roller_new(&opts));
	g_assert_true(g_file_get_contents(path, &before, &len_before, NULL));

	/* Unsynced passes: an empty flash is refused, the file untouched. */
	opts.prefill = 0;
	opts.fresh = TRUE;
	vr = virtual_roller_new(&opts, &error);
	g_assert_null(vr);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
	{
		g_autofree char *want = g_strdup_printf(
			"the roller's flash %s holds 5 passes no host has synced yet "
			"(seq 1 to 5): an empty flash would lose them", path);

		g_assert_cmpstr(error->message, ==, want);
	}
	g_assert_true(g_file_get_contents(path, &after, &len_after, NULL));
	g_assert_cmpmem(before, len_before, after, len_after);

	/* Told to: a new roller. */
	opts.discard_unsynced = TRUE;
	opts.needle_um = 250;
	vr = roller_new(&opts);
	g_assert_cmpuint(virtual_roller_firmware(vr)->log.next_seq, ==, 1);
	g_assert_cmpuint(virtual_roller_firmware(vr)->session_counter, ==, 0);
	virtual_roller_unref(vr);
	file = state_read(path);
	g_assert_cmpuint(file->log.next_seq, ==, 1);
	g_assert_cmpuint(file->cfg.needle_um, ==, 250);

	/* A flash with nothing unsynced needs no permission. */
	opts.discard_unsynced = FALSE;
	vr = roller_new(&opts);
	virtual_roller_unref(vr);
	state_dir_remove(dir, "r.state");
}

/* An empty flash may start past seqs a history has seen; a flash that
 * exists keeps its own. */
static void test_state_first_seq(void)
{
	g_autofree char *dir = state_dir();
	g_autofree char *path = g_build_filename(dir, "r.state", NULL);
	struct virtual_roller_options opts;
	struct virtual_roller *vr;

	default_opts(&opts);
	opts.first_seq = 100;
	opts.prefill = 2;
	vr = roller_new(&opts);
	g_assert_cmpuint(virtual_roller_firmware(vr)->log.first_seq, ==, 100);
	g_assert_cmpuint(virtual_roller_firmware(vr)->log.next_seq, ==, 102);
	g_assert_cmpuint(dp_log_get(&virtual_roller_firmware(vr)->log, 100)->seq, ==, 100);
	virtual_roller_unref(vr);

	opts.state = path;
	vr = roller_new(&opts);
	g_assert_cmpuint(virtual_roller_firmware(vr)->log.next_seq, ==, 102);
	virtual_roller_unref(vr);
	opts.first_seq = 500;
	opts.prefill = 0;
	vr = roller_new(&opts);
	g_assert_cmpuint(virtual_roller_firmware(vr)->log.first_seq, ==, 100);
	g_assert_cmpuint(virtual_roller_firmware(vr)->log.next_seq, ==, 102);
	virtual_roller_unref(vr);
	state_dir_remove(dir, "r.state");
}

/* A flash file that is not a good image stops the roller with an error
 * that names it, and is never written over. */
static void test_state_damaged(void)
{
	g_autofree char *dir = state_dir();
	g_autofree char *path = g_build_filename(dir, "r.state", NULL);
	g_autofree char *good = NULL;
	struct virtual_roller_options opts;
	gsize len;
	static const struct {
		const char *what;
		const char *reason;
	} cases[] = {
		{ "garbage", "not a roller flash image" },
		{ "truncated", "truncated" },
		{ "flipped", "bad checksum" },
		{ "too-large", NULL },
	};

	default_opts(&opts);
	opts.state = path;
	opts.prefill = 3;
	virtual_roller_unref(roller_new(&opts));
	g_assert_true(g_file_get_contents(path, &good, &len, NULL));
	opts.prefill = 0;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *bytes = g_memdup2(good, len);
		g_autofree char *back = NULL, *want = NULL;
		gsize n = len, n_back;

		if (i == 0)
			memcpy(bytes, "#!/bin/sh\n", 10);
		else if (i == 1)
			n = len - 1;
		else if (i == 2)
			bytes[len / 2] ^= 0x10;
		if (i == 3) {
			g_free(bytes);
			n = DP_FLASH_MAX_SIZE + 1;
			bytes = g_malloc0(n);
		}
		g_assert_true(g_file_set_contents(path, bytes, (gssize)n, NULL));
		g_assert_null(virtual_roller_new(&opts, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		if (cases[i].reason)
			want = g_strdup_printf("the roller's flash %s is damaged (%s); it is "
					       "left as it is, since it may hold passes no "
					       "host has synced yet", path, cases[i].reason);
		else
			want = g_strdup_printf("%s is not a roller's flash: it is larger than "
					       "any flash image (%d bytes)", path,
					       DP_FLASH_MAX_SIZE);
		g_assert_cmpstr(error->message, ==, want);
		g_assert_true(g_file_get_contents(path, &back, &n_back, NULL));
		g_assert_cmpmem(back, n_back, bytes, n);

		/* --fresh alone does not discard it either. */
		g_clear_error(&error);
		opts.fresh = TRUE;
		g_assert_null(virtual_roller_new(&opts, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		opts.fresh = FALSE;
	}

	/* A folder where the file should be: named too. */
	{
		g_autoptr(GError) error = NULL;
		g_autofree char *sub = g_build_filename(dir, "sub.state", NULL);

		g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
		opts.state = sub;
		g_assert_null(virtual_roller_new(&opts, &error));
		g_assert_nonnull(error);
		g_assert_nonnull(strstr(error->message, sub));
		g_assert_cmpint(g_rmdir(sub), ==, 0);
	}
	state_dir_remove(dir, "r.state");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(bad_options); i++) {
		g_autofree char *path = g_strdup_printf("/virtual-roller/robustness/option-%s",
							bad_options[i].name);

		g_test_add_data_func(path, &bad_options[i], test_bad_option);
	}
	g_test_add_func("/virtual-roller/robustness/bad-scenario", test_bad_scenario);
	g_test_add_func("/virtual-roller/hello-and-info", test_hello_and_info);
	g_test_add_func("/virtual-roller/write-result-first", test_write_result_first);
	g_test_add_func("/virtual-roller/one-host-at-a-time", test_busy);
	g_test_add_func("/virtual-roller/robustness/not-seqpacket", test_not_seqpacket);
	g_test_add_func("/virtual-roller/robustness/malformed", test_malformed);
	g_test_add_func("/virtual-roller/autopilot", test_autopilot);
	g_test_add_func("/virtual-roller/scenario-wait", test_scenario_wait);
	g_test_add_func("/virtual-roller/roll-by-hand", test_roll_by_hand);
	g_test_add_func("/virtual-roller/roll-interrupts-scenario", test_roll_interrupts);
	g_test_add_func("/virtual-roller/backpressure", test_backpressure);
	g_test_add_func("/virtual-roller/state/restart-continues", test_state_restart);
	g_test_add_func("/virtual-roller/state/saved-before-sent", test_state_before_sent);
	g_test_add_func("/virtual-roller/state/fresh", test_state_fresh);
	g_test_add_func("/virtual-roller/state/first-seq", test_state_first_seq);
	g_test_add_func("/virtual-roller/robustness/state-damaged", test_state_damaged);
	return g_test_run();
}
