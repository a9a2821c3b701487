/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller's BLE profile: identifiers, constants and the decoded forms of
 * every frame.  device-proto/PROTOCOL.md is the normative text; section
 * numbers below refer to it.
 *
 * C11, no allocation, no I/O: this header could be built into firmware.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* §2 Identifiers.  The custom service UUID is random (version 4); its
 * characteristics differ from it in the 16 bits at bytes 2..3. */
#define DP_SERVICE_UUID      "89c10260-9f8d-4ca4-9ef8-9a90149127bd"
#define DP_CHAR_INFO_UUID    "89c10261-9f8d-4ca4-9ef8-9a90149127bd"
#define DP_CHAR_STREAM_UUID  "89c10262-9f8d-4ca4-9ef8-9a90149127bd"
#define DP_CHAR_CONTROL_UUID "89c10263-9f8d-4ca4-9ef8-9a90149127bd"
#define DP_CHAR_HISTORY_UUID "89c10264-9f8d-4ca4-9ef8-9a90149127bd"

/* Standard services and characteristics the roller also exposes (§2.2). */
#define DP_DIS_UUID          "0000180a-0000-1000-8000-00805f9b34fb"
#define DP_BATTERY_UUID      "0000180f-0000-1000-8000-00805f9b34fb"
#define DP_BATTERY_LEVEL_UUID "00002a19-0000-1000-8000-00805f9b34fb"
#define DP_CTS_UUID          "00001805-0000-1000-8000-00805f9b34fb"
#define DP_CURRENT_TIME_UUID "00002a2b-0000-1000-8000-00805f9b34fb"

/* Characteristic ids used by the firmware and the local link (§10). */
enum dp_char {
	DP_CHAR_INFO = 1,
	DP_CHAR_STREAM = 2,
	DP_CHAR_CONTROL = 3,
	DP_CHAR_HISTORY = 4,
	DP_CHAR_BATTERY = 5,         /* 0x2A19 */
	DP_CHAR_CURRENT_TIME = 6,    /* 0x2A2B */
	DP_CHAR_DEVICE_INFO = 7,     /* 0x180A, as one "key=value;..." string */
	DP_CHAR_MAX_ = DP_CHAR_DEVICE_INFO,
};

/* ATT error codes the roller uses (Core Spec Vol 3 Part F §3.4.1.1). */
enum dp_att_status {
	DP_ATT_OK = 0x00,
	DP_ATT_READ_NOT_PERMITTED = 0x02,
	DP_ATT_WRITE_NOT_PERMITTED = 0x03,
	DP_ATT_INSUFFICIENT_AUTHENTICATION = 0x05,
	DP_ATT_REQUEST_NOT_SUPPORTED = 0x06,
	DP_ATT_INVALID_LENGTH = 0x0d,
	DP_ATT_INSUFFICIENT_ENCRYPTION = 0x0f,
	DP_ATT_CTS_DATA_FIELD_IGNORED = 0x80, /* CTS 1.1: Current Time written with a bad value */
	DP_ATT_CCCD_IMPROPER = 0xfd, /* indication/notification not enabled */
	DP_ATT_PROCEDURE_IN_PROGRESS = 0xfe, /* control point: previous response not yet confirmed */
};

/* §3 Versioning: byte 0 of every frame is (major << 4) | minor.  A host
 * refuses a frame whose major differs from its own; a newer minor only adds
 * record types, which an older decoder skips. */
#define DP_PROTO_MAJOR 1
#define DP_PROTO_MINOR 0
#define DP_VERSION_BYTE ((DP_PROTO_MAJOR << 4) | DP_PROTO_MINOR)

/* §3 Every frame: u8 version, u16 length (whole frame, header included),
 * u8 frame type.  Multi-byte fields are little-endian. */
#define DP_HEADER_SIZE 4
/* Largest frame: one ATT value (512 octets).  The roller sizes its frames to
 * the negotiated ATT_MTU - 3, and needs an ATT_MTU of at least DP_MIN_ATT_MTU. */
#define DP_MAX_FRAME 512
#define DP_MIN_ATT_MTU 100

/* The device epoch: device time is milliseconds since 2020-01-01T00:00:00Z
 * (§4).  Unix time = DP_EPOCH_UNIX_S * 1000 + device ms. */
#define DP_EPOCH_UNIX_S 1577836800LL

enum dp_frame_type {
	DP_FRAME_INFO = 0x01,        /* roller info characteristic (read) */
	DP_FRAME_STREAM = 0x02,      /* live stream batch (notify) */
	DP_FRAME_HISTORY = 0x03,     /* offline log batch (notify) */
	DP_FRAME_COMMAND = 0x04,     /* control point write */
	DP_FRAME_RESPONSE = 0x05,    /* control point indication */
};

/* §5 Records inside STREAM and HISTORY frames: u8 type, u8 body length, body. */
enum dp_record_type {
	DP_REC_FORCE = 0x01,         /* batch of force samples */
	DP_REC_PASS = 0x02,          /* one pass event */
	DP_REC_STATUS = 0x03,        /* battery, state, log fill */
	DP_REC_LOG_END = 0x04,       /* end of a history sync (HISTORY only) */
};

/* Zones on the wire (§6).  0 means "not assigned": a pass rolled with no
 * host session, kept and shown as unassigned. */
enum dp_zone {
	DP_ZONE_NONE = 0,
	DP_ZONE_FOREHEAD = 1,
	DP_ZONE_LEFT_CHEEK = 2,
	DP_ZONE_RIGHT_CHEEK = 3,
	DP_ZONE_NOSE = 4,
	DP_ZONE_CHIN = 5,
	DP_ZONE_UPPER_LIP = 6,
	DP_ZONE_NECK = 7,
	DP_ZONE_DECOLLETAGE = 8,
	DP_ZONE_HANDS = 9,
	DP_ZONE_SCALP = 10,
};
#define DP_ZONE_MAX DP_ZONE_SCALP

enum dp_direction {
	DP_DIR_FORWARD = 1,          /* drum turning with the encoder counting up */
	DP_DIR_BACKWARD = 2,
};

/* Why a pass ended (dp_pass.flags). */
#define DP_PASS_END_LIFT      0x01  /* contact force fell away */
#define DP_PASS_END_REVERSAL  0x02  /* the drum turned the other way */
#define DP_PASS_END_STOP      0x04  /* rolling stopped too long, or session stop */
#define DP_PASS_CLOCK_UNSET   0x08  /* start_ms counts from power-up, not the epoch */
#define DP_PASS_FLAGS_ALL     0x0f

/* §5.2 One pass: continuous rolling in one direction with contact force. */
struct dp_pass {
	uint32_t seq;                /* offline-log sequence number, never reused, >= 1 */
	uint64_t start_ms;           /* device time at the start of the pass */
	uint16_t duration_ms;
	uint16_t distance_mm;
	uint8_t direction;           /* enum dp_direction */
	uint8_t angle_deg;           /* track orientation, 0..179, 0 = along the face's vertical */
	uint16_t mean_force_cn;      /* centinewtons */
	uint16_t peak_force_cn;
	uint16_t over_warn_ms;       /* time above the roller's warning threshold */
	uint16_t session;            /* roller's session number, 0 = none */
	uint8_t zone;                /* enum dp_zone */
	uint8_t flags;               /* DP_PASS_* */
};
#define DP_PASS_SIZE 28

/* §5.1 Force samples: period and up to DP_FORCE_MAX samples. */
#define DP_FORCE_MAX 120
struct dp_force {
	uint8_t period_ms;           /* 5 (200 Hz) .. 10 (100 Hz) */
	uint8_t count;               /* 1..DP_FORCE_MAX */
	uint16_t cn[DP_FORCE_MAX];   /* tared force, centinewtons */
};

enum dp_state {
	DP_STATE_IDLE = 0,
	DP_STATE_SESSION = 1,        /* a session started by a host */
	DP_STATE_OFFLINE_SESSION = 2,/* rolling with no host: passes logged, zone 0 */
};

#define DP_STATUS_PAIRING     0x01  /* in pairing mode (long press) */
#define DP_STATUS_CLOCK_SET   0x02  /* clock set since power-up */
#define DP_STATUS_CHARGING    0x04
#define DP_STATUS_LOG_NEARLY_FULL 0x08 /* >= 90 % of the offline log in use */
#define DP_STATUS_CONTACT     0x10  /* contact force right now */
#define DP_STATUS_FLAGS_ALL   0x1f

/* §5.3 Status. */
struct dp_status {
	uint8_t state;               /* enum dp_state */
	uint8_t battery_pct;         /* 0..100 */
	uint8_t flags;               /* DP_STATUS_* */
	uint16_t log_count;          /* unacked records in the offline log */
	uint32_t log_first_seq;      /* oldest unacked record (== log_next_seq if empty) */
	uint32_t log_next_seq;       /* sequence the next pass will get */
	uint16_t log_dropped;        /* passes lost because the log was full */
	uint16_t session;            /* current session, 0 = none */
	uint8_t zone;                /* current zone */
};
#define DP_STATUS_SIZE 18

/* §5.4 End of a history sync: every record in [first_seq, next_seq) that was
 * still unacked has been sent. */
struct dp_log_end {
	uint32_t first_seq;
	uint32_t next_seq;
	uint16_t sent;               /* records sent in this sync */
};
#define DP_LOG_END_SIZE 10

/* §7 Roller info (read). Strings are 1..16 printable ASCII characters. */
#define DP_STR_MAX 16
struct dp_info {
	char firmware[DP_STR_MAX + 1];
	char serial[DP_STR_MAX + 1];
	uint16_t needle_um;          /* needle length in micrometres */
	char head_serial[DP_STR_MAX + 1];
	uint16_t head_uses;          /* sessions started with this head */
	uint64_t head_fitted_ms;     /* device time the head was fitted, 0 = unknown */
	int16_t force_offset_cn;     /* calibration: tare offset */
	uint16_t force_scale_pm;     /* calibration: gain, per mille (1000 = 1.0) */
	uint16_t ticks_per_10mm;     /* calibration: encoder ticks per 10 mm of drum travel */
	uint16_t warn_force_cn;      /* the roller's warning threshold for over_warn_ms */
	uint64_t clock_ms;           /* device time when the value was read */
	uint8_t clock_flags;         /* DP_STATUS_CLOCK_SET or 0 */
};

/* §8 Control point. */
enum dp_opcode {
	DP_OP_START_SESSION = 0x01,  /* u8 zone -> u16 session */
	DP_OP_STOP_SESSION = 0x02,   /* -> u16 session, u16 passes */
	DP_OP_SET_TIME = 0x03,       /* u64 device-epoch ms -> u64 previous clock */
	DP_OP_SYNC_HISTORY = 0x04,   /* u32 from_seq -> u32 first, u32 next */
	DP_OP_ACK = 0x05,            /* u32 up_to_seq (inclusive) -> u16 log_count */
	DP_OP_ZERO_FORCE = 0x06,     /* -> i16 new offset */
	DP_OP_IDENTIFY = 0x07,       /* u8 seconds (1..30) */
	DP_OP_SET_ZONE = 0x08,       /* u8 zone */
};

enum dp_result {
	DP_RES_OK = 0x00,
	DP_RES_UNSUPPORTED = 0x01,   /* unknown opcode */
	DP_RES_INVALID_PARAM = 0x02, /* parameter out of range */
	DP_RES_INVALID_STATE = 0x03, /* e.g. stop with no session */
	DP_RES_BUSY = 0x04,          /* a history sync is running */
	DP_RES_OUT_OF_RANGE = 0x05,  /* sequence number beyond the log */
	DP_RES_MALFORMED = 0x06,     /* the command frame did not decode */
	DP_RES_LOG_FULL = 0x07,      /* offline log full: sync before a new session */
};

struct dp_command {
	uint8_t opcode;              /* enum dp_opcode */
	union {
		uint8_t zone;        /* START_SESSION, SET_ZONE */
		uint64_t time_ms;    /* SET_TIME */
		uint32_t seq;        /* SYNC_HISTORY (from), ACK (up to) */
		uint8_t seconds;     /* IDENTIFY */
	} u;
};

struct dp_response {
	uint8_t opcode;              /* the command answered */
	uint8_t result;              /* enum dp_result; params only when OK */
	union {
		struct { uint16_t session; } start;
		struct { uint16_t session; uint16_t passes; } stop;
		uint64_t previous_ms;                      /* SET_TIME */
		struct { uint32_t first_seq; uint32_t next_seq; } sync;
		uint16_t log_count;                        /* ACK */
		int16_t force_offset_cn;                   /* ZERO_FORCE */
	} u;
};

/* §9 Advertising: 2 octets of Manufacturer Specific Data (AD type 0xFF)
 * under DP_ADV_COMPANY_ID, beside the UUID list, in one legacy
 * advertisement.  0xFFFF is the Bluetooth SIG's value for tests before a
 * company ID is assigned: a shipping roller uses its maker's ID, and this
 * constant changes with it. */
#define DP_ADV_COMPANY_ID   0xFFFF
#define DP_ADV_PAIRING      0x01   /* long press: pairing allowed now */
#define DP_ADV_LOG_PENDING  0x02   /* unsynced passes in the offline log */
struct dp_adv {
	uint8_t flags;
	uint8_t proto_major;
};
#define DP_ADV_SIZE 2

/* §2.2 Current Time characteristic (0x2A2B), Exact Time 256 + reason. */
struct dp_current_time {
	uint16_t year;               /* 1582..9999, 0 = unknown */
	uint8_t month, day;          /* 1..12, 1..31 */
	uint8_t hours, minutes, seconds;
	uint8_t day_of_week;         /* 1 = Monday .. 7, 0 = unknown */
	uint8_t fractions256;
	uint8_t adjust_reason;
};
#define DP_CURRENT_TIME_SIZE 10
