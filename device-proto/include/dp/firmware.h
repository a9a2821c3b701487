/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller's firmware logic as a state machine with no I/O (PROTOCOL.md
 * §11): sensor samples and ATT operations in, frames out through injected
 * callbacks.  The same code runs inside roller-sim and in the unit tests, and
 * could run on the roller's microcontroller.
 *
 * All storage is inside struct dp_fw (the "flash" log included), so the
 * caller decides where it lives; nothing is allocated.  Time is passed in by
 * the caller as monotonic milliseconds since power-up, so tests pin it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/codec.h"
#include "dp/pass-detect.h"

/* Offline log: a ring of pass records, freed only by ACK (§11.4). */
#define DP_LOG_CAPACITY 4096

struct dp_log {
	struct dp_pass rec[DP_LOG_CAPACITY];
	uint32_t first_seq;          /* oldest unacked */
	uint32_t next_seq;           /* next to assign, starts at 1 */
	uint16_t dropped;            /* passes refused because the ring was full */
};

void dp_log_init(struct dp_log *log, uint32_t next_seq);
size_t dp_log_count(const struct dp_log *log);
/* Appends, assigning pass->seq.  Returns false (and counts a drop) when full. */
bool dp_log_append(struct dp_log *log, struct dp_pass *pass);
/* Record with this sequence, or NULL if acked or not yet made. */
const struct dp_pass *dp_log_get(const struct dp_log *log, uint32_t seq);
/* Frees every record <= up_to.  Returns false if up_to >= next_seq. */
bool dp_log_ack(struct dp_log *log, uint32_t up_to);

struct dp_fw_config {
	const char *firmware;        /* version string */
	const char *serial;
	uint16_t needle_um;
	const char *head_serial;
	uint16_t head_uses;
	uint64_t head_fitted_ms;
	uint8_t battery_pct;
	uint8_t force_period_ms;     /* 5 = 200 Hz ... 10 = 100 Hz */
	uint16_t batch_ms;           /* one STREAM frame per batch, e.g. 50 */
	uint16_t status_every_ms;    /* status record at most this often, e.g. 1000 */
	uint16_t att_mtu;            /* frames are at most att_mtu - 3 bytes */
	struct dp_detect_config detect;
};

/* Fills *cfg with the defaults of PROTOCOL.md §11.1. */
void dp_fw_config_default(struct dp_fw_config *cfg);

/* Fixed behaviour: pairing mode (§9.3), offline sessions (§11.3). */
#define DP_FW_PAIRING_MS      60000   /* pairing mode after a long press */
#define DP_FW_OFFLINE_IDLE_MS 300000  /* an offline session ends 5 min after its last pass */
/* The Device Information characteristic reads as one string:
 * "manufacturer=dermaroll;model=DR-1;serial=<serial>;firmware=<firmware>". */
#define DP_FW_MANUFACTURER    "dermaroll"
#define DP_FW_MODEL           "DR-1"
#define DP_FW_DEVICE_INFO_MAX 96
/* Largest RESPONSE frame: header, opcode, result, u64. */
#define DP_FW_RESPONSE_MAX    16
/* ZERO_FORCE takes the mean raw force of the last 50 ms, at most this many
 * samples (§8.4). */
#define DP_FW_TARE_SAMPLES    10

struct dp_fw_ops {
	/* Sends a notification on a subscribed characteristic.  Returns false
	 * when the link can take no more right now (the firmware retries from
	 * dp_fw_tick), true once queued. */
	bool (*notify)(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len);
	/* Sends an indication; the firmware sends no other indication until
	 * dp_fw_confirm(). Returns false when it could not be queued. */
	bool (*indicate)(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len);
	/* Optional: identify (LED/buzzer) for this many seconds. */
	void (*identify)(void *user_data, uint8_t seconds);
	/* Optional: debug trace; never required for correct behaviour. */
	void (*trace)(void *user_data, const char *msg);
};

/* Opaque in spirit: fields are private to firmware.c. */
struct dp_fw {
	struct dp_fw_config cfg;
	char firmware[DP_STR_MAX + 1], serial[DP_STR_MAX + 1], head_serial[DP_STR_MAX + 1];
	const struct dp_fw_ops *ops;
	void *user_data;

	uint64_t now_ms;             /* last time seen (monotonic since power-up) */
	int64_t clock_offset_ms;     /* device time = now_ms + offset */
	bool clock_set;

	bool connected, encrypted;
	uint64_t disconnected_ms;    /* when the last link dropped */
	uint8_t subscribed[DP_CHAR_MAX_ + 1];
	bool indication_pending;
	bool pairing;
	uint64_t pairing_until_ms;

	uint16_t att_mtu;            /* of this link: min(ours, the host's) */

	uint8_t state;               /* enum dp_state */
	uint16_t session, session_passes;
	uint16_t session_counter;    /* last session number handed out */
	uint8_t zone;
	uint64_t last_pass_end_ms;
	int16_t force_offset_cn;
	uint16_t raw_recent[DP_FW_TARE_SAMPLES]; /* last untared forces, for ZERO_FORCE */
	uint8_t raw_count, raw_pos;
	bool charging;

	/* Standard-service notifications waiting for the link (§2.2). */
	bool battery_notify, time_notify;

	struct dp_detector detector;

	/* The control-point response waiting for the indication slot. */
	uint8_t rsp[DP_FW_RESPONSE_MAX];
	uint8_t rsp_len;
	bool rsp_queued;

	/* Live stream batching.  Live PASS records are read back from the log
	 * (seq >= stream_pass_seq), so congestion never loses one. */
	bool streaming, stream_backlog;
	uint32_t stream_seq;
	struct dp_force pending_force;
	uint64_t pending_force_start_ms;
	uint32_t stream_pass_seq;
	uint32_t force_dropped;      /* samples dropped while the link was congested */
	uint64_t last_batch_ms, last_status_ms;
	bool status_dirty;
	struct dp_status last_status; /* as last sent */

	/* History sync in progress */
	bool syncing;
	uint32_t sync_next, sync_end, sync_first;
	uint16_t sync_sent;

	struct dp_log log;
};

void dp_fw_init(struct dp_fw *fw, const struct dp_fw_config *cfg,
		const struct dp_fw_ops *ops, void *user_data);

/* One sensor sample at 100–200 Hz (the caller's rate is cfg.force_period_ms). */
struct dp_sample {
	uint64_t t_ms;               /* monotonic ms since power-up */
	int32_t encoder;             /* cumulative drum encoder ticks, signed */
	uint16_t force_raw_cn;       /* force before tare, centinewtons */
	uint8_t angle_deg;           /* track orientation 0..179 from the accelerometer */
};
void dp_fw_sample(struct dp_fw *fw, const struct dp_sample *s);

/* Advances time: emits due STREAM frames, continues a history sync, ends an
 * idle offline session, leaves pairing mode when it times out. */
void dp_fw_tick(struct dp_fw *fw, uint64_t now_ms);

/* Link events.  encrypted: the link is encrypted (always true on the local
 * socket link; from the BLE stack otherwise). */
void dp_fw_connect(struct dp_fw *fw, bool encrypted, uint16_t att_mtu);
void dp_fw_disconnect(struct dp_fw *fw);

/* ATT operations.  Return an enum dp_att_status; reads fill buf. */
uint8_t dp_fw_read(struct dp_fw *fw, enum dp_char chr, uint8_t *buf, size_t cap, size_t *out_len);
uint8_t dp_fw_write(struct dp_fw *fw, enum dp_char chr, const uint8_t *buf, size_t len);
uint8_t dp_fw_subscribe(struct dp_fw *fw, enum dp_char chr, uint8_t mode);
void dp_fw_confirm(struct dp_fw *fw);

/* Buttons and battery. */
void dp_fw_long_press(struct dp_fw *fw);     /* pairing mode for 60 s */
/* A pairing has completed: pairing mode ends at once (§9.3). */
void dp_fw_pairing_complete(struct dp_fw *fw);
/* Battery level; notified on Battery Level when it changes (§2.2.2). */
void dp_fw_set_battery(struct dp_fw *fw, uint8_t pct);
void dp_fw_set_charging(struct dp_fw *fw, bool charging);
/* Fits a new head: resets the use count and the fitting time. */
void dp_fw_fit_head(struct dp_fw *fw, const char *head_serial, uint16_t needle_um);

/* The advertising payload (§9.2) as it should be now. */
void dp_fw_adv(const struct dp_fw *fw, struct dp_adv *adv);
/* Current status, as sent in status records. */
void dp_fw_status(const struct dp_fw *fw, struct dp_status *st);
/* Device time now (ms since the device epoch, or since power-up if unset). */
uint64_t dp_fw_clock(const struct dp_fw *fw);
