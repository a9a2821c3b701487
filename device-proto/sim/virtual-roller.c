/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual roller (virtual-roller.h): a timer turns wall-clock time into
 * model time (scaled by opts->speed), feeds the model's samples to the
 * firmware and ticks it; a socket source carries the local link messages of
 * PROTOCOL.md §10 both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "dp/flash.h"
#include "dp/link-msg.h"
#include "scenario.h"
#include "virtual-roller.h"

#ifndef DERMAROLL_VERSION
#define DERMAROLL_VERSION "0"
#endif

/* Wall-clock period of the timer that runs the model. */
#define TICK_MS 10
/* Samples one timer dispatch may produce; past that the model falls behind
 * the wall clock instead of starving the socket (slow machines, valgrind). */
#define SAMPLES_PER_DISPATCH 4000
/* Notifications queued while the socket is full; past that notify() says
 * "not now" and the firmware keeps the frame (§11: it never drops a pass). */
#define NOTIFY_QUEUE_MAX 32
/* Replies are always queued; past this the roller stops reading requests
 * until the host reads what it was sent. */
#define OUT_QUEUE_HARD_MAX 256
/* Messages read per wake-up. */
#define READ_BURST 64
/* A host session gives the autopilot's hand a moment before it rolls. */
#define AUTOPILOT_START_MS 1000
/* After the prefill, the roller lies unused long enough for the firmware to
 * close the offline session (§11.3: 5 minutes without a pass). */
#define PREFILL_REST_MS (6 * 60 * 1000)
/* State that only the roller knows yet (acks, drops) reaches its flash
 * file at most this long after it changed. */
#define SAVE_DEBOUNCE_MS 200

/* What the flash file holds, to tell when it is out of date.  The log
 * records themselves only ever change by append (next_seq) or ack
 * (first_seq). */
struct flash_mark {
	uint32_t first_seq, next_seq;
	uint16_t dropped, session_counter, needle_um, head_uses;
	uint64_t head_fitted_ms;
	int16_t force_offset_cn;
	char head_serial[DP_STR_MAX + 1];
};

struct link_source {
	GSource base;
	struct virtual_roller *vr;
	gpointer tag;
};

struct virtual_roller {
	gint ref;
	struct virtual_roller_options opts;
	char *serial;
	GRand *rand;                 /* routine and prefill choices */

	struct dp_fw *fw;
	struct dp_fw_config fw_cfg;
	struct dp_model model;
	struct dp_model_config model_cfg;
	GArray *plan;                /* struct dp_stroke: what the model rolls now */
	GArray *queued;              /* virtual_roller_roll() strokes not started */
	gboolean resume;             /* after the queued strokes, plan[resume_from..] */
	guint resume_from;

	struct scenario *scenario;
	guint next_part;

	/* Autopilot: the (session, zone) it rolled or rolls for. */
	gboolean ap_rolling;
	guint16 ap_session;
	guint8 ap_zone;

	GMainContext *ctx;
	GSource *timer;
	gint64 wall_origin_us;
	guint64 model_origin_ms;
	guint64 last_ms;

	int fd;
	struct link_source *link;
	GQueue out;                  /* GBytes, oldest first */
	guint out_notifies;          /* NOTIFY messages in out */
	gboolean holding;            /* inside a WRITE: queue, reply goes first */
	guint hold_pos;
	gboolean broken;             /* a send failed hard: detach when safe */
	gboolean reading_paused;
	gboolean congested;          /* refusing notifications (for the log) */

	/* The flash file: set once it is loaded (or started afresh), so that
	 * nothing is written over a file the roller refused. */
	char *state_path;
	struct flash_mark saved;
	GSource *save_timer;
	gboolean save_failed;        /* warned; retried by the timer only */
};

void virtual_roller_options_default(struct virtual_roller_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->needle_um = 500;
	opts->head_uses = 0;
	opts->battery_pct = 80;
	opts->seed = 1;
	opts->speed = 1.0;
	opts->serial = "DR-SIM-0001";
	opts->autopilot = TRUE;
	opts->att_mtu = 247;
}

/* ---- The flash file ---- */

static void flash_mark_of(const struct dp_fw *fw, struct flash_mark *m)
{
	memset(m, 0, sizeof(*m));
	m->first_seq = fw->log.first_seq;
	m->next_seq = fw->log.next_seq;
	m->dropped = fw->log.dropped;
	m->session_counter = fw->session_counter;
	m->needle_um = fw->cfg.needle_um;
	m->head_uses = fw->cfg.head_uses;
	m->head_fitted_ms = fw->cfg.head_fitted_ms;
	m->force_offset_cn = fw->force_offset_cn;
	g_strlcpy(m->head_serial, fw->head_serial, sizeof(m->head_serial));
}

/* Changes that reach the host as they happen: a new seq (in a PASS or
 * STATUS record), a session number, the head and the tare (in responses
 * and INFO).  A roller that lost them would hand them out again (§11.4:
 * never reused), so they are written before anything goes out. */
static gboolean flash_mark_urgent(const struct flash_mark *a, const struct flash_mark *b)
{
	return a->next_seq != b->next_seq || a->session_counter != b->session_counter ||
	       a->needle_um != b->needle_um || a->head_uses != b->head_uses ||
	       a->head_fitted_ms != b->head_fitted_ms ||
	       a->force_offset_cn != b->force_offset_cn ||
	       strcmp(a->head_serial, b->head_serial) != 0;
}

/* The rest (acks, drops) can wait: a lost ACK only makes the host receive
 * records again, which it de-duplicates (§11.4). */
static gboolean flash_mark_equal(const struct flash_mark *a, const struct flash_mark *b)
{
	return !flash_mark_urgent(a, b) && a->first_seq == b->first_seq &&
	       a->dropped == b->dropped;
}

/* Temp file in the same folder, fsync, rename, fsync the folder: after a
 * crash the file is the old image or the new one, never a mix. */
static gboolean write_atomically(const char *path, const uint8_t *buf, gsize len,
				 GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strconcat(path, ".XXXXXX", NULL);
	gsize done = 0;
	int fd, dfd, saved;

	if (g_mkdir_with_parents(dir, 0700) < 0) {
		saved = errno;
		goto fail_early;
	}
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		saved = errno;
		goto fail_early;
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n < 0 ? errno : EIO;
			goto fail;
		}
		done += (gsize)n;
	}
	if (fsync(fd) < 0) {
		saved = errno;
		goto fail;
	}
	if (close(fd) < 0) {
		saved = errno;
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		saved = errno;
		goto fail;
	}
	/* The rename itself is durable once the folder is synced. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return TRUE;

fail:
	if (fd >= 0)
		close(fd);
	g_unlink(tmp);
fail_early:
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
		    "cannot write the roller's flash %s: %s", path, g_strerror(saved));
	return FALSE;
}

gboolean virtual_roller_save_state(struct virtual_roller *vr, GError **error)
{
	g_autofree uint8_t *buf = NULL;
	size_t len = dp_fw_flash_size(vr->fw);
	struct flash_mark now;

	if (!vr->state_path)
		return TRUE;
	buf = g_malloc(len);
	if (dp_fw_flash_save(vr->fw, buf, len, &len) != DP_FLASH_OK) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "cannot write the roller's flash %s: the image did not fit",
			    vr->state_path);
		return FALSE;
	}
	flash_mark_of(vr->fw, &now);
	if (!write_atomically(vr->state_path, buf, len, error))
		return FALSE;
	vr->saved = now;
	vr->save_failed = FALSE;
	return TRUE;
}

/* A save from the main loop: no one to hand an error to, so it is said
 * once, and retried by the timer. */
static void flash_save_logged(struct virtual_roller *vr)
{
	g_autoptr(GError) error = NULL;

	if (virtual_roller_save_state(vr, &error))
		return;
	if (!vr->save_failed)
		g_warning("virtual roller: %s; passes logged from now on may be lost "
			  "if the roller stops", error->message);
	vr->save_failed = TRUE;
}

static gboolean flash_dirty(struct virtual_roller *vr)
{
	struct flash_mark now;

	if (!vr->state_path)
		return FALSE;
	flash_mark_of(vr->fw, &now);
	return !flash_mark_equal(&now, &vr->saved);
}

/* Before a message leaves: anything the host may keep must be in flash. */
static void flash_before_send(struct virtual_roller *vr)
{
	struct flash_mark now;

	if (!vr->state_path || vr->save_failed)
		return;
	flash_mark_of(vr->fw, &now);
	if (flash_mark_urgent(&now, &vr->saved))
		flash_save_logged(vr);
}

static void flash_cancel_timer(struct virtual_roller *vr)
{
	if (!vr->save_timer)
		return;
	g_source_destroy(vr->save_timer);
	g_source_unref(vr->save_timer);
	vr->save_timer = NULL;
}

static gboolean on_save_timer(gpointer data)
{
	struct virtual_roller *vr = data;

	/* Returning REMOVE destroys the source; only our reference is left. */
	g_source_unref(vr->save_timer);
	vr->save_timer = NULL;
	if (flash_dirty(vr))
		flash_save_logged(vr);
	return G_SOURCE_REMOVE;
}

static void flash_schedule(struct virtual_roller *vr)
{
	if (vr->save_timer || !flash_dirty(vr))
		return;
	vr->save_timer = g_timeout_source_new(SAVE_DEBOUNCE_MS);
	g_source_set_static_name(vr->save_timer, "virtual-roller flash");
	g_source_set_callback(vr->save_timer, on_save_timer, vr, NULL);
	g_source_attach(vr->save_timer, vr->ctx);
}

/* ---- Outgoing messages ---- */

static void update_io(struct virtual_roller *vr);

static gboolean send_now(struct virtual_roller *vr, GBytes *msg)
{
	gsize len;
	const void *buf = g_bytes_get_data(msg, &len);

	flash_before_send(vr);
	if (send(vr->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return TRUE;
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		g_debug("virtual roller: send failed: %s", g_strerror(errno));
		vr->broken = TRUE;
	}
	return FALSE;
}

static gboolean is_notify(GBytes *msg)
{
	return ((const uint8_t *)g_bytes_get_data(msg, NULL))[0] == DP_MSG_NOTIFY;
}

static void flush_out(struct virtual_roller *vr)
{
	GBytes *msg;

	while (vr->fd >= 0 && !vr->broken && !vr->holding &&
	       (msg = g_queue_peek_head(&vr->out))) {
		if (!send_now(vr, msg))
			break;
		if (is_notify(msg))
			vr->out_notifies--;
		g_bytes_unref(g_queue_pop_head(&vr->out));
	}
	update_io(vr);
}

/* Queues or sends one message.  A NOTIFY is refused (FALSE) when the queue
 * already holds its share; everything else is always taken. */
static gboolean enqueue(struct virtual_roller *vr, const struct dp_msg *m)
{
	uint8_t buf[DP_MSG_MAX];
	size_t len;
	GBytes *bytes;
	enum dp_err err;

	if (vr->fd < 0 || vr->broken)
		return FALSE;
	err = dp_msg_encode(m, buf, sizeof(buf), &len);
	if (err != DP_OK) {
		g_warning("virtual roller: cannot encode link message 0x%02x: %s",
			  m->op, dp_strerror(err));
		return FALSE;
	}
	if (m->op == DP_MSG_NOTIFY && vr->out_notifies >= NOTIFY_QUEUE_MAX) {
		if (!vr->congested)
			g_debug("virtual roller: link congested, the firmware holds its frames");
		vr->congested = TRUE;
		return FALSE;
	}
	if (m->op == DP_MSG_NOTIFY && vr->congested) {
		g_debug("virtual roller: link flowing again");
		vr->congested = FALSE;
	}
	bytes = g_bytes_new(buf, len);
	if (g_queue_is_empty(&vr->out) && !vr->holding && send_now(vr, bytes)) {
		g_bytes_unref(bytes);
		return TRUE;
	}
	if (vr->broken) {
		g_bytes_unref(bytes);
		return FALSE;
	}
	g_queue_push_tail(&vr->out, bytes);
	if (m->op == DP_MSG_NOTIFY)
		vr->out_notifies++;
	update_io(vr);
	return TRUE;
}

/* ---- Firmware callbacks ---- */

static bool fw_notify(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct dp_msg m = { .op = DP_MSG_NOTIFY, .chr = (uint8_t)chr,
			    .value = buf, .value_len = len };

	return enqueue(user_data, &m);
}

static bool fw_indicate(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct dp_msg m = { .op = DP_MSG_INDICATE, .chr = (uint8_t)chr,
			    .value = buf, .value_len = len };

	return enqueue(user_data, &m);
}

static void fw_identify(void *user_data, uint8_t seconds)
{
	g_info("virtual roller: identify for %u s (LED blinks, buzzer beeps)", seconds);
}

static void fw_trace(void *user_data, const char *msg)
{
	g_debug("firmware: %s", msg);
}

static const struct dp_fw_ops fw_ops = {
	.notify = fw_notify,
	.indicate = fw_indicate,
	.identify = fw_identify,
	.trace = fw_trace,
};

/* ---- Link ---- */

static void handle_msg(struct virtual_roller *vr, const uint8_t *buf, size_t len)
{
	struct dp_msg m, reply = { 0 };
	uint8_t value[DP_MAX_FRAME];
	size_t value_len = 0;
	enum dp_err err = dp_msg_decode(buf, len, &m);
	uint8_t status;

	if (err != DP_OK) {
		g_debug("virtual roller: ignoring a malformed message from the host: %s",
			dp_strerror(err));
		return;
	}
	switch (m.op) {
	case DP_MSG_READ:
		status = dp_fw_read(vr->fw, m.chr, value, sizeof(value), &value_len);
		reply = (struct dp_msg) { .op = DP_MSG_READ_RESULT, .chr = m.chr,
					  .status = status };
		if (status == DP_ATT_OK) {
			reply.value = value;
			reply.value_len = value_len;
		}
		enqueue(vr, &reply);
		break;
	case DP_MSG_WRITE:
		/* ATT answers the write before the indication it causes. */
		vr->holding = TRUE;
		vr->hold_pos = g_queue_get_length(&vr->out);
		status = dp_fw_write(vr->fw, m.chr, m.value, m.value_len);
		vr->holding = FALSE;
		if (vr->fd >= 0) {
			uint8_t rbuf[DP_MSG_MAX];
			size_t rlen;

			reply = (struct dp_msg) { .op = DP_MSG_WRITE_RESULT, .chr = m.chr,
						  .status = status };
			if (dp_msg_encode(&reply, rbuf, sizeof(rbuf), &rlen) == DP_OK)
				g_queue_push_nth(&vr->out, g_bytes_new(rbuf, rlen),
						 (gint)vr->hold_pos);
			flush_out(vr);
		}
		break;
	case DP_MSG_SUBSCRIBE:
		/* A CCCD write; §10 gives it no reply. */
		status = dp_fw_subscribe(vr->fw, m.chr, m.status);
		if (status != DP_ATT_OK)
			g_debug("virtual roller: subscribe to %u refused: 0x%02x", m.chr, status);
		break;
	case DP_MSG_CONFIRM:
		dp_fw_confirm(vr->fw);
		break;
	default:
		g_debug("virtual roller: ignoring message 0x%02x, which only a roller sends",
			m.op);
		break;
	}
}

static void read_msgs(struct virtual_roller *vr)
{
	uint8_t buf[DP_MSG_MAX + 1];

	for (int i = 0; i < READ_BURST && vr->fd >= 0 && !vr->broken; i++) {
		ssize_t n;

		if (g_queue_get_length(&vr->out) >= OUT_QUEUE_HARD_MAX)
			break;
		n = recv(vr->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			g_debug("virtual roller: the host closed the link");
			vr->broken = TRUE;
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			g_debug("virtual roller: ignoring a %zd-byte message from the host", n);
			continue;
		}
		handle_msg(vr, buf, (size_t)n);
	}
}

static void update_io(struct virtual_roller *vr)
{
	GIOCondition cond = G_IO_HUP | G_IO_ERR;

	if (!vr->link || vr->fd < 0)
		return;
	vr->reading_paused = g_queue_get_length(&vr->out) >= OUT_QUEUE_HARD_MAX;
	if (!vr->reading_paused)
		cond |= G_IO_IN;
	if (!g_queue_is_empty(&vr->out))
		cond |= G_IO_OUT;
	g_source_modify_unix_fd(&vr->link->base, vr->link->tag, cond);
}

static gboolean link_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	struct link_source *ls = (struct link_source *)source;
	struct virtual_roller *vr = virtual_roller_ref(ls->vr);
	GIOCondition rev = g_source_query_unix_fd(source, ls->tag);

	if (rev & G_IO_OUT)
		flush_out(vr);
	if (rev & (G_IO_IN | G_IO_HUP | G_IO_ERR))
		read_msgs(vr);
	if (rev & (G_IO_HUP | G_IO_ERR) && !(rev & G_IO_IN))
		vr->broken = TRUE;
	if (vr->broken)
		virtual_roller_detach(vr);
	flash_schedule(vr);
	virtual_roller_unref(vr);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs link_funcs = {
	.dispatch = link_dispatch,
};

gboolean virtual_roller_attach(struct virtual_roller *vr, int fd, GError **error)
{
	struct dp_msg hello = { .op = DP_MSG_HELLO };
	int type = 0;
	socklen_t type_len = sizeof(type);
	int flags;

	if (vr->fd >= 0) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "the roller is already connected to a host");
		close(fd);
		return FALSE;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 ||
	    type != SOCK_SEQPACKET) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "the roller's link needs a SOCK_SEQPACKET socket");
		close(fd);
		return FALSE;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);

	vr->fd = fd;
	vr->broken = FALSE;
	vr->link = (struct link_source *)g_source_new(&link_funcs, sizeof(struct link_source));
	vr->link->vr = vr;
	g_source_set_static_name(&vr->link->base, "virtual-roller link");
	vr->link->tag = g_source_add_unix_fd(&vr->link->base, fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_attach(&vr->link->base, vr->ctx);

	/* §10: HELLO stands in for the advertisement the host connected to. */
	dp_fw_adv(vr->fw, &hello.adv);
	hello.att_mtu = vr->opts.att_mtu;
	g_snprintf(hello.name, sizeof(hello.name), "DermaRoll %s", vr->serial);
	dp_fw_connect(vr->fw, true, vr->opts.att_mtu);
	enqueue(vr, &hello);
	if (vr->broken) {
		virtual_roller_detach(vr);
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
				    "the host end of the link is already closed");
		return FALSE;
	}
	return TRUE;
}

void virtual_roller_detach(struct virtual_roller *vr)
{
	if (vr->fd < 0)
		return;
	if (vr->link) {
		g_source_destroy(&vr->link->base);
		g_source_unref(&vr->link->base);
		vr->link = NULL;
	}
	close(vr->fd);
	vr->fd = -1;
	g_queue_clear_full(&vr->out, (GDestroyNotify)g_bytes_unref);
	vr->out_notifies = 0;
	vr->congested = FALSE;
	vr->broken = FALSE;
	vr->holding = FALSE;
	dp_fw_disconnect(vr->fw);
}

gboolean virtual_roller_is_attached(struct virtual_roller *vr)
{
	return vr->fd >= 0;
}

void virtual_roller_set_att_mtu(struct virtual_roller *vr, uint16_t att_mtu)
{
	vr->opts.att_mtu = (uint16_t)CLAMP(att_mtu, 23, vr->fw_cfg.att_mtu);
}

/* ---- What to roll ---- */

static guint16 zone_distance_mm(guint8 zone)
{
	/* Track lengths a hand can roll on each zone. */
	static const guint16 mm[DP_ZONE_MAX + 1] = {
		[DP_ZONE_NONE] = 40, [DP_ZONE_FOREHEAD] = 50, [DP_ZONE_LEFT_CHEEK] = 40,
		[DP_ZONE_RIGHT_CHEEK] = 40, [DP_ZONE_NOSE] = 20, [DP_ZONE_CHIN] = 25,
		[DP_ZONE_UPPER_LIP] = 15, [DP_ZONE_NECK] = 50, [DP_ZONE_DECOLLETAGE] = 60,
		[DP_ZONE_HANDS] = 40, [DP_ZONE_SCALP] = 50,
	};

	return zone <= DP_ZONE_MAX ? mm[zone] : 40;
}

/* One stroke a person might roll on this zone.  Forces mostly in the
 * 1.0–4.0 N target band of SAFETY.md; one in ten presses too hard (> 5 N). */
static struct dp_stroke routine_stroke(struct virtual_roller *vr, guint8 zone,
				       guint8 angle, guint8 direction)
{
	struct dp_stroke s = {
		.kind = DP_STROKE_ROLL,
		.zone = zone,
		.direction = direction,
		.angle_deg = angle,
		.speed_mm_s = (guint16)g_rand_int_range(vr->rand, 40, 90),
	};
	gint dist = zone_distance_mm(zone) + g_rand_int_range(vr->rand, -5, 6);

	s.distance_mm = (guint16)MAX(dist, 12);
	if (g_rand_int_range(vr->rand, 0, 10) == 0)
		s.force_cn = (guint16)g_rand_int_range(vr->rand, 520, 650);
	else
		s.force_cn = (guint16)g_rand_int_range(vr->rand, 150, 370);
	return s;
}

static void append_pause(GArray *plan, guint32 ms)
{
	struct dp_stroke s = { .kind = DP_STROKE_PAUSE, .duration_ms = ms };

	g_array_append_val(plan, s);
}

/* The zone's routine: horizontal, vertical, diagonal, 4 passes each (the
 * defaults of SAFETY.md), rolled to and fro with a lift between passes. */
static void build_routine(struct virtual_roller *vr, GArray *plan, guint8 zone)
{
	static const guint8 angles[] = { 90, 0, 45 };

	append_pause(plan, AUTOPILOT_START_MS);
	for (guint d = 0; d < G_N_ELEMENTS(angles); d++) {
		for (guint i = 0; i < 4; i++) {
			struct dp_stroke s = routine_stroke(vr, zone, angles[d],
							    i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD);

			g_array_append_val(plan, s);
			append_pause(plan, (guint32)g_rand_int_range(vr->rand, 100, 600));
		}
		append_pause(plan, 1500);
	}
}

static void load_plan(struct virtual_roller *vr, GArray *plan)
{
	g_array_unref(vr->plan);
	vr->plan = plan;
	dp_model_load(&vr->model, (const struct dp_stroke *)plan->data, plan->len);
}

/* Picks what to roll next once the model is done. */
static void choose_plan(struct virtual_roller *vr)
{
	struct dp_status st;
	GArray *plan;

	if (vr->queued->len) {
		plan = vr->queued;
		vr->queued = g_array_new(FALSE, TRUE, sizeof(struct dp_stroke));
		/* The plan they interrupted goes on after them. */
		if (vr->resume && vr->resume_from < vr->plan->len)
			g_array_append_vals(plan, &g_array_index(vr->plan, struct dp_stroke,
								 vr->resume_from),
					    vr->plan->len - vr->resume_from);
		vr->resume = FALSE;
		load_plan(vr, plan);
		return;
	}
	dp_fw_status(vr->fw, &st);
	if (vr->scenario) {
		const struct scenario_part *part;

		if (vr->next_part >= vr->scenario->parts->len)
			return;
		part = &g_array_index(vr->scenario->parts, struct scenario_part, vr->next_part);
		if (part->wait_zone &&
		    (st.state != DP_STATE_SESSION || st.zone != part->wait_zone))
			return;
		vr->next_part++;
		plan = g_array_sized_new(FALSE, TRUE, sizeof(struct dp_stroke), part->count);
		g_array_append_vals(plan, &g_array_index(vr->scenario->strokes,
							 struct dp_stroke, part->first),
				    part->count);
		load_plan(vr, plan);
		return;
	}
	vr->ap_rolling = FALSE;
	if (!vr->opts.autopilot || st.state != DP_STATE_SESSION || st.zone == DP_ZONE_NONE)
		return;
	if (st.session == vr->ap_session && st.zone == vr->ap_zone)
		return;
	vr->ap_session = st.session;
	vr->ap_zone = st.zone;
	vr->ap_rolling = TRUE;
	plan = g_array_new(FALSE, TRUE, sizeof(struct dp_stroke));
	build_routine(vr, plan, st.zone);
	g_debug("virtual roller: autopilot rolls zone %u of session %u", st.zone, st.session);
	load_plan(vr, plan);
}

/* The autopilot follows the host: a new zone or a stopped session ends the
 * routine after the stroke in progress. */
static void follow_host(struct virtual_roller *vr)
{
	struct dp_status st;

	if (!vr->ap_rolling || dp_model_done(&vr->model))
		return;
	dp_fw_status(vr->fw, &st);
	if (st.state != DP_STATE_SESSION || st.zone != vr->ap_zone ||
	    st.session != vr->ap_session) {
		dp_model_end_after_stroke(&vr->model);
		vr->resume = FALSE;
	}
}

static void run_one_sample(struct virtual_roller *vr)
{
	struct dp_sample s;

	if (dp_model_done(&vr->model)) {
		choose_plan(vr);
	} else if (vr->queued->len && !vr->resume) {
		vr->resume_from = (guint)dp_model_end_after_stroke(&vr->model);
		vr->resume = TRUE;
	}
	dp_model_step(&vr->model, &s);
	dp_fw_sample(vr->fw, &s);
	dp_fw_tick(vr->fw, s.t_ms);
	vr->last_ms = s.t_ms;
}

static gboolean on_timer(gpointer data)
{
	struct virtual_roller *vr = virtual_roller_ref(data);
	gint64 now = g_get_monotonic_time();
	guint64 target = vr->model_origin_ms +
		(guint64)((double)(now - vr->wall_origin_us) * vr->opts.speed / 1000.0);
	guint n = 0;

	follow_host(vr);
	while (dp_model_time(&vr->model) <= target && n < SAMPLES_PER_DISPATCH &&
	       !vr->broken) {
		run_one_sample(vr);
		n++;
		if (vr->ap_rolling && n % 16 == 0)
			follow_host(vr);
	}
	if (n >= SAMPLES_PER_DISPATCH) {
		/* Fallen behind: model time goes on from here at the set speed. */
		vr->wall_origin_us = now;
		vr->model_origin_ms = dp_model_time(&vr->model);
	}
	if (vr->broken)
		virtual_roller_detach(vr);
	else if (vr->fd >= 0)
		flush_out(vr);
	flash_schedule(vr);
	virtual_roller_unref(vr);
	return G_SOURCE_CONTINUE;
}

/* ---- Prefill ---- */

/* Rolls n offline passes through the model and the firmware, as if the
 * user had rolled with no host around: the firmware opens an offline
 * session, logs each pass with zone 0, and closes the session after it. */
static gboolean prefill(struct virtual_roller *vr, guint n, GError **error)
{
	g_autoptr(GArray) plan = g_array_sized_new(FALSE, TRUE, sizeof(struct dp_stroke), n);
	static const guint8 angles[] = { 90, 0, 45 };
	struct dp_sample s;
	size_t before = dp_log_count(&vr->fw->log), count;

	if (before + n > DP_LOG_CAPACITY) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "the roller's log already holds %zu passes: a prefill of %u "
			    "would not fit its %d", before, n, DP_LOG_CAPACITY);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		struct dp_stroke st = routine_stroke(vr, DP_ZONE_NONE, angles[(i / 4) % 3],
						     i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD);

		/* Offline passes are kept in the target band: the log is what
		 * the test of offline sync counts, not a pressure exercise. */
		st.force_cn = (guint16)g_rand_int_range(vr->rand, 150, 370);
		g_array_append_val(plan, st);
	}
	dp_model_load(&vr->model, (const struct dp_stroke *)plan->data, plan->len);
	while (dp_model_next(&vr->model, &s)) {
		dp_fw_sample(vr->fw, &s);
		dp_fw_tick(vr->fw, s.t_ms);
	}
	dp_model_load(&vr->model, NULL, 0);
	dp_model_skip(&vr->model, PREFILL_REST_MS);
	dp_model_step(&vr->model, &s);
	dp_fw_sample(vr->fw, &s);
	dp_fw_tick(vr->fw, s.t_ms);
	vr->last_ms = s.t_ms;

	count = dp_log_count(&vr->fw->log) - before;
	if (count != n) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "prefill rolled %u passes but the firmware logged %zu", n, count);
		return FALSE;
	}
	return TRUE;
}

/* ---- Life cycle ---- */

static gboolean check_string(const char *what, const char *s, GError **error)
{
	size_t len = s ? strlen(s) : 0;

	if (len < 1 || len > DP_STR_MAX) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "the %s must be 1 to %d characters long", what, DP_STR_MAX);
		return FALSE;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "the %s must be printable ASCII", what);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean check_options(const struct virtual_roller_options *o, GError **error)
{
	const char *bad = NULL;

	if (o->needle_um < 100 || o->needle_um > 3000)
		bad = "the needle length must be between 100 and 3000 µm";
	else if (o->battery_pct > 100)
		bad = "the battery level must be between 0 and 100 %";
	else if (o->prefill > DP_LOG_CAPACITY)
		bad = "the prefill must be at most " G_STRINGIFY(DP_LOG_CAPACITY) " passes";
	else if (!(o->speed >= 0.01 && o->speed <= 1000.0))
		bad = "the speed must be between 0.01 and 1000";
	else if (o->att_mtu < DP_MIN_ATT_MTU || o->att_mtu > 517)
		bad = "the ATT MTU must be between " G_STRINGIFY(DP_MIN_ATT_MTU) " and 517";
	if (bad) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, bad);
		return FALSE;
	}
	return check_string("serial number", o->serial, error);
}

/* Reads the flash file: *data NULL when there is none. */
static gboolean flash_read(const char *path, char **data, gsize *len, GError **error)
{
	g_autoptr(GError) err = NULL;
	GStatBuf st;

	*data = NULL;
	*len = 0;
	if (g_stat(path, &st) < 0) {
		if (errno == ENOENT)
			return TRUE;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot read the roller's flash %s: %s", path, g_strerror(errno));
		return FALSE;
	}
	/* Not read at all if it cannot be an image: a wrong --state. */
	if (S_ISREG(st.st_mode) && st.st_size > DP_FLASH_MAX_SIZE) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s is not a roller's flash: it is larger than any flash "
			    "image (%d bytes)", path, DP_FLASH_MAX_SIZE);
		return FALSE;
	}
	if (!g_file_get_contents(path, data, len, &err)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "cannot read the roller's flash %s: %s", path, err->message);
		return FALSE;
	}
	return TRUE;
}

/*
 * Loads opts->state into the firmware (just initialised), or starts an
 * empty flash.  Never loses unacked passes without being told to: a file
 * that cannot be read or is damaged stops the roller, and so does a fresh
 * start over one that holds passes, unless discard_unsynced.
 */
static gboolean flash_start(struct virtual_roller *vr, const struct virtual_roller_options *o,
			    GError **error)
{
	g_autofree char *data = NULL;
	gboolean loaded = FALSE;
	enum dp_flash_err err;
	gsize len;

	if (!flash_read(o->state, &data, &len, error))
		return FALSE;
	if (data) {
		err = dp_fw_flash_load(vr->fw, (const uint8_t *)data, len);
		if (err != DP_FLASH_OK && !(o->fresh && o->discard_unsynced)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "the roller's flash %s is damaged (%s); it is left as it "
				    "is, since it may hold passes no host has synced yet",
				    o->state, dp_flash_strerror(err));
			return FALSE;
		}
		loaded = err == DP_FLASH_OK;
	}
	if (loaded && o->fresh) {
		size_t count = dp_log_count(&vr->fw->log);

		if (count && !o->discard_unsynced) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
				    "the roller's flash %s holds %zu passes no host has synced "
				    "yet (seq %u to %u): an empty flash would lose them",
				    o->state, count, vr->fw->log.first_seq,
				    vr->fw->log.next_seq - 1);
			return FALSE;
		}
		dp_fw_init(vr->fw, &vr->fw_cfg, &fw_ops, vr);
		loaded = FALSE;
	}
	if (loaded) {
		/* The roller is what its flash says (virtual-roller.h). */
		g_free(vr->serial);
		vr->serial = g_strdup(vr->fw->serial);
		vr->opts.serial = vr->serial;
		vr->fw_cfg.serial = vr->serial;
		vr->opts.needle_um = vr->fw->cfg.needle_um;
		vr->opts.head_uses = vr->fw->cfg.head_uses;
		g_debug("virtual roller: flash %s loaded: log %u..%u, session %u",
			o->state, vr->fw->log.first_seq, vr->fw->log.next_seq,
			vr->fw->session_counter);
	} else if (o->first_seq > 1) {
		dp_log_init(&vr->fw->log, o->first_seq);
		vr->fw->stream_pass_seq = vr->fw->log.next_seq;
	}
	return TRUE;
}

struct virtual_roller *virtual_roller_new(const struct virtual_roller_options *opts,
					  GError **error)
{
	g_autoptr(virtual_roller) vr = NULL;
	guint32 seed[2];

	if (!check_options(opts, error))
		return NULL;

	vr = g_new0(struct virtual_roller, 1);
	vr->ref = 1;
	vr->fd = -1;
	vr->opts = *opts;
	vr->serial = g_strdup(opts->serial);
	vr->opts.serial = vr->serial;
	vr->opts.scenario = NULL;
	vr->opts.state = NULL;
	seed[0] = (guint32)opts->seed;
	seed[1] = (guint32)(opts->seed >> 32);
	vr->rand = g_rand_new_with_seed_array(seed, 2);
	vr->plan = g_array_new(FALSE, TRUE, sizeof(struct dp_stroke));
	vr->queued = g_array_new(FALSE, TRUE, sizeof(struct dp_stroke));
	g_queue_init(&vr->out);
	vr->ctx = g_main_context_ref_thread_default();

	if (opts->scenario) {
		vr->scenario = scenario_load(opts->scenario, error);
		if (!vr->scenario)
			return NULL;
	}

	dp_fw_config_default(&vr->fw_cfg);
	vr->fw_cfg.firmware = "sim-" DERMAROLL_VERSION;
	vr->fw_cfg.serial = vr->serial;
	vr->fw_cfg.needle_um = opts->needle_um;
	vr->fw_cfg.head_serial = "HEAD-SIM-01";
	vr->fw_cfg.head_uses = opts->head_uses;
	vr->fw_cfg.battery_pct = opts->battery_pct;
	vr->fw_cfg.att_mtu = opts->att_mtu;
	/* The firmware keeps the whole flash log inside: too big for a stack. */
	vr->fw = g_new0(struct dp_fw, 1);
	dp_fw_init(vr->fw, &vr->fw_cfg, &fw_ops, vr);
	if (opts->state && !flash_start(vr, opts, error))
		return NULL;
	if (!opts->state && opts->first_seq > 1) {
		dp_log_init(&vr->fw->log, opts->first_seq);
		vr->fw->stream_pass_seq = vr->fw->log.next_seq;
	}

	dp_model_config_default(&vr->model_cfg);
	vr->model_cfg.seed = opts->seed;
	vr->model_cfg.period_ms = vr->fw_cfg.force_period_ms;
	vr->model_cfg.ticks_per_10mm = vr->fw_cfg.detect.ticks_per_10mm;
	dp_model_init(&vr->model, &vr->model_cfg, NULL, 0, 0);

	if (opts->prefill && !prefill(vr, opts->prefill, error))
		return NULL;
	if (opts->pairing)
		dp_fw_long_press(vr->fw);
	if (opts->state) {
		/* Written at once: the folder and the file exist from now on,
		 * and a fresh start has really replaced the old flash. */
		vr->state_path = g_strdup(opts->state);
		if (!virtual_roller_save_state(vr, error)) {
			g_clear_pointer(&vr->state_path, g_free);
			return NULL;
		}
	}

	vr->wall_origin_us = g_get_monotonic_time();
	vr->model_origin_ms = dp_model_time(&vr->model);
	vr->timer = g_timeout_source_new(TICK_MS);
	g_source_set_static_name(vr->timer, "virtual-roller model");
	g_source_set_callback(vr->timer, on_timer, vr, NULL);
	g_source_attach(vr->timer, vr->ctx);
	return g_steal_pointer(&vr);
}

struct virtual_roller *virtual_roller_ref(struct virtual_roller *vr)
{
	g_atomic_int_inc(&vr->ref);
	return vr;
}

void virtual_roller_unref(struct virtual_roller *vr)
{
	if (!vr || !g_atomic_int_dec_and_test(&vr->ref))
		return;
	virtual_roller_detach(vr);
	flash_cancel_timer(vr);
	if (flash_dirty(vr))
		flash_save_logged(vr);
	g_free(vr->state_path);
	if (vr->timer) {
		g_source_destroy(vr->timer);
		g_source_unref(vr->timer);
	}
	g_main_context_unref(vr->ctx);
	scenario_free(vr->scenario);
	g_array_unref(vr->plan);
	g_array_unref(vr->queued);
	g_rand_free(vr->rand);
	g_free(vr->fw);
	g_free(vr->serial);
	g_free(vr);
}

const char *virtual_roller_serial(struct virtual_roller *vr)
{
	return vr->serial;
}

const struct dp_fw *virtual_roller_firmware(struct virtual_roller *vr)
{
	return vr->fw;
}

void virtual_roller_roll(struct virtual_roller *vr, const struct dp_stroke *strokes, gsize n)
{
	g_array_append_vals(vr->queued, strokes, (guint)n);
}

void virtual_roller_long_press(struct virtual_roller *vr)
{
	dp_fw_long_press(vr->fw);
}

void virtual_roller_pairing_complete(struct virtual_roller *vr)
{
	dp_fw_pairing_complete(vr->fw);
}

void virtual_roller_set_battery(struct virtual_roller *vr, guint8 pct)
{
	dp_fw_set_battery(vr->fw, MIN(pct, 100));
}

gboolean virtual_roller_is_resting(struct virtual_roller *vr)
{
	return dp_model_done(&vr->model) && !vr->queued->len &&
	       (!vr->scenario || vr->next_part >= vr->scenario->parts->len ||
		g_array_index(vr->scenario->parts, struct scenario_part,
			      vr->next_part).wait_zone != 0);
}

guint64 virtual_roller_time(struct virtual_roller *vr)
{
	return vr->last_ms;
}
