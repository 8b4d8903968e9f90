/*
 * PJSIP compile-time configuration for the callcenter pjsua2 build.
 *
 * Copied to pjlib/include/pj/config_site.h by scripts/build-pjsua2.sh.
 * Any change to this file changes the wheel cache key, so the next run of
 * the script rebuilds pjsua2. Macro names and limits were checked against
 * pjproject 2.17 (see docs/pjsua2-build.md).
 */
#ifndef CALLCENTER_PJ_CONFIG_SITE_H
#define CALLCENTER_PJ_CONFIG_SITE_H

/* Simultaneous calls. pjsua silently clamps UaConfig.maxCalls to this value
 * (pjsua_call.c), and the PyPI wheel ships with the default of 4. The calls
 * array itself is allocated at libInit() for UaConfig.maxCalls only. */
#define PJSUA_MAX_CALLS                 1024

/* Default size of the conference bridge (MediaConfig.maxMediaPorts) and the
 * size of the stack arrays used to enumerate ports/listeners. Budget:
 * 1 master port + 1 stream port per call + 1 extra port per call (player,
 * tone generator or AudioMediaPort) + ~550 for shared players/recorders.
 * The bridge allocates 8 bytes * max ports per *used* port, so this costs
 * about 54 MB when completely full. */
#define PJSUA_MAX_CONF_PORTS            2600

/* Slot arrays for AudioMediaPlayer / AudioMediaRecorder (pjsua_var.player[]
 * and recorder[]): one announcement player per call plus headroom; few
 * concurrent recordings. Each slot is only a small struct. */
#define PJSUA_MAX_PLAYERS               2048
#define PJSUA_MAX_RECORDERS             64

/* Sockets per ioqueue. pjsua shares one ioqueue for SIP transports and
 * RTP/RTCP (2 sockets per call), and PJSIP_MAX_TRANSPORTS defaults to this
 * value. The select() ioqueue is capped at FD_SETSIZE (1024, and 64 by
 * default), so the build uses the epoll backend (configure --enable-epoll);
 * ioqueue_epoll.c has no FD_SETSIZE limit. Keys are preallocated: a few MB. */
#define PJ_IOQUEUE_MAX_HANDLES          8192

/* Hash table sizes for transactions and dialogs. sip_config.h: "the value
 * should be 2^n-1 since it will be rounded up to 2^n". These are bucket
 * counts, not hard limits; PJSIP_MAX_TIMER_COUNT (initial timer heap size)
 * derives from them (2*tsx + 2*dlg, ~48k entries). */
#define PJSIP_MAX_TSX_COUNT             (16*1024-1)
#define PJSIP_MAX_DIALOG_COUNT          (8*1024-1)

/* Incoming SIP connections (TCP and TLS): one that sends no SIP message within
 * 10 s of connecting is closed (the default, 0, kept it for the whole server idle
 * time), and one no dialog or transaction uses any more is closed after 120 s
 * (default 600). Idle connections from anywhere would otherwise hold the socket
 * handles the calls' RTP needs (issue #14). Trunks reconnect when they need to. */
#define PJSIP_TCP_INITIAL_TIMEOUT        10
#define PJSIP_TRANSPORT_SERVER_IDLE_TIME 120

/* Keep debug-level (5) logging available at run time; the level actually
 * used is chosen by LogConfig.level / consoleLevel. */
#define PJ_LOG_MAX_LEVEL                5

/* Use the mixing conference bridge (needed to play prompts/music to calls
 * and to bridge calls with transcoding), not the pass-through switch board. */
#define PJMEDIA_CONF_USE_SWITCH_BOARD   0

#endif /* CALLCENTER_PJ_CONFIG_SITE_H */
