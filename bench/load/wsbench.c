// bench/load/wsbench.c: the WebSocket load client of bench/run.sh and bench/idle-100k.sh.
//
// One C file, Linux only, one thread, epoll (level-triggered), non-blocking sockets. Written for this
// repository; it depends on zlib (permessage-deflate) and OpenSSL (TLS, SHA-1 and base64 of the handshake).
//
// Build (Debian packages gcc, zlib1g-dev, libssl-dev), or use bench/load/build.sh:
//   cc -O2 -o wsbench bench/load/wsbench.c -lz -lssl -lcrypto
//
// Usage:
//   wsbench [-h host] [-p port] [-u path] [-c conns] [-s bytes] [-d depth] [-t secs] [-b] [-i]
//           [-n srcaddrs] [-P serverpid] [-q] [-z] [-S] [-m mode] [-r rate] [-o]
//
//   -h host    target, 127.0.0.1 by default; only 127.0.0.0/8, ::1 and "localhost" are accepted
//   -p port    9001             -u path   request path, "/"
//   -c conns   connections, 100 (churn: connections in the cycle at once)
//   -s bytes   payload bytes per message, 32      -d depth  messages in flight per connection, 1
//   -t secs    measured seconds, 5, after a 1 s warm-up that is not counted (idle: seconds to hold)
//   -b         binary messages (default: text, ASCII)
//   -n N       spread the connections over the source addresses 127.0.0.1 .. 127.0.0.N
//              (about 28,000 connections fit on one source address)
//   -P pid     the server's pid: idle mode reports its VmRSS growth per connection
//   -q         quiet: no progress lines on stderr
//   -z         permessage-deflate (RFC 7692): offered as "permessage-deflate; client_max_window_bits"
//   -S         TLS (wss://), no certificate verification, SNI = host
//   -m mode    echo (default), idle (-i is the same as -m idle), churn or fanout
//   -r rate    fanout: messages per second per connection (default: as fast as -d allows)
//   -o         fanout: one publisher: only connection 0 sends, every connection (itself included) receives;
//              takes up to 100,000 connections (all-to-all takes at most 4096)
//
// Modes:
//   echo    every connection keeps -d messages of -s bytes in flight; each echo is compared byte for byte
//           with what was sent (every payload carries its sequence number and connection id, and the rest
//           of it cycles through four variants (-z: up to 256), so a stale, duplicated or crossed echo is a mismatch);
//           latency is from queueing a message to reading its echo.
//           -> mode=echo conns= alive= size= depth= msgs= secs= msgs_per_s= MiB_per_s= p50_us= p99_us=
//              p999_us= errors= mismatches= client_cpu_pct= [wire_bytes_per_msg= with -z: bytes of the
//              server's frames, headers included, per echoed message]
//   idle    opens -c connections, prints "connections open: N" on stderr (also with -q: scripts wait for
//           it), holds them -t seconds, then checks that each still echoes one message. With -P, prints
//           the server's VmRSS before connecting and after the hold:
//           -> server_rss_kb_before= after= per_conn_bytes=
//           -> idle: opened= alive_and_echoing= errors= mismatches= client_cpu_pct=
//   churn   -c slots each loop: connect, upgrade, one echo, close handshake (the client sends close 1000,
//           the server must answer with 1000), then the server closes TCP first and the client closes
//           after it, so no TIME_WAIT piles up on the client side (a server that keeps the connection
//           1 s after the close handshake gets an RST, counted on stderr). Latency is the whole cycle.
//           -> mode=churn conns= cycles= cycles_per_s= p50_us= p99_us= errors= client_cpu_pct=
//   fanout  all-to-all broadcast (a chat room): every connection sends messages carrying its id, a
//           sequence number and a send timestamp in ASCII, and every connection must receive every
//           message of every sender, each sender's in order. Latency is send to delivery, per delivery.
//           sent and delivered count the measured window; missing and out_of_order the whole run,
//           after waiting up to 2 s at the end for deliveries still under way.
//           -> mode=fanout conns= sent= delivered= deliveries_per_s= p50_us= p99_us= missing=
//              out_of_order= errors= client_cpu_pct=
//
// client_cpu_pct is this process's user + system time (getrusage) over the measured window, in percent
// of one CPU (idle: over the whole run); near 100 the client itself is the bottleneck.
// Exit status: 0 when there were no errors, mismatches or missing deliveries; 1 when there were;
// 2 on a usage error or when connections could not be opened at the start.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define NS 1000000000ull
#define MS 1000000ull
#define MAX_MESSAGE (64u << 20)       // the largest frame or message accepted from a server
#define MAX_PENDING_OPENS 256         // connections in connect/TLS/upgrade at once while opening
#define OPEN_TIMEOUT (15 * NS)        // connect + TLS + upgrade of one connection
#define CYCLE_TIMEOUT (10 * NS)       // one whole churn cycle
#define DRAIN_TIMEOUT NS              // waiting for the server's TCP close after its close frame
#define NVARIANTS 4                   // payload bodies cycle through this many variants (more with -z, see make_variants)
#define ZVARIANTS 256                 // -z: so many JSON-like bodies, so that no message repeats within a 32 KiB window
#define ECHO_HDR 18                   // "ssssssssss:cccccc " (sequence, connection id)
#define FAN_HDR 32                    // "sssss:qqqqqqqqqq:tttttttttttttt|" (sender, sequence, ns)
#define MAX_FANOUT_CONNS 4096
#define MAX_SHOWN_ERRORS 20

enum { M_ECHO, M_IDLE, M_CHURN, M_FANOUT };
enum { ST_FREE, ST_CONNECTING, ST_TLS, ST_UPGRADE, ST_OPEN, ST_CLOSING, ST_DRAIN, ST_DEAD };
static const char *const state_names[] = {"free", "connecting", "TLS handshake", "upgrade",
                                          "open", "closing", "waiting for TCP close", "closed"};
static const char *const mode_names[] = {"echo", "idle", "churn", "fanout"};

typedef struct conn {
  int fd, id, state;
  uint32_t events;            // epoll interest now registered
  int dirty;                  // queued in the flush list of this turn
  int blocked;                // the socket took less than offered: no more sends until EPOLLOUT
  SSL *ssl;
  uint8_t *rb; size_t rcap, rlen;            // received bytes not parsed yet: rb[0, rlen)
  uint8_t *wb; size_t wcap, wpos, wlen;      // bytes to send: wb[wpos, wlen)
  uint8_t *mb; size_t mcap, mlen, mwire;     // a fragmented message being reassembled
  uint8_t mop, mrsv1, in_msg;
  uint8_t pmd, snct, cnct, cwbits;           // permessage-deflate as the server granted it
  z_stream *zd, *zi;                         // compressor / decompressor, made on first use
  uint64_t sseq, rseq;                       // next sequence number to send / to be echoed
  uint64_t *ts;                              // echo: send time of each message in flight (ring)
  uint32_t inflight;
  uint64_t t_start, deadline;                // churn: cycle start; deadline of the current phase (0: none)
  char key[32];                              // Sec-WebSocket-Key
  uint8_t idtxt[6];                          // the id as 6 decimal digits, for payload headers
} conn;

static struct {
  const char *host, *path;
  int port, conns, depth, depth_set, binary, nsrc, pid, quiet, deflate, tls, mode, one_sender;
  size_t size;
  double secs, rate;
} o = {.host = "127.0.0.1", .path = "/", .port = 9001, .conns = 100, .depth = 1, .size = 32, .secs = 5};

static struct {
  uint64_t msgs, bytes, wire;               // echo: echoes in the window
  uint64_t cycles;                          // churn: cycles completed in the window
  uint64_t sent, delivered;                 // fanout: in the window
  uint64_t sent_total, delivered_total, out_of_order;
  uint64_t errors, mismatches, total, rst_closes;
} st;

static int ep = -1;
static struct sockaddr_storage dst;
static socklen_t dst_len;
static char host_header[300];
static SSL_CTX *ssl_ctx;
static conn *conns;
static conn **dirty_list;
static int ndirty;
static uint64_t t_origin, win_start, win_end;
static int sending;                         // echo/fanout: new messages may be sent
static int opened, failed_opens, pending_opens, next_open, closing_left;
static uint8_t **variants;                  // payload bodies, o.size bytes each
static uint64_t nvariants;                  // how many: NVARIANTS, or with -z up to ZVARIANTS
static size_t hdr_off;                      // where the echo header sits in a payload
static uint8_t *zbuf, *zin, *zout;          // deflate output, deflate input, inflate output (shared)
static size_t zbuf_cap, zout_cap;
static uint32_t *fan_exp;                   // fanout: next sequence number expected, [receiver * senders + sender]
static int fan_senders;                     // fanout: connections that send (all, or 1 with -o)
static uint64_t fan_t0;                     // fanout: when sending started
static unsigned long shown_errors, shown_mismatches;
static int pmd_announced;

// ---- small helpers ---------------------------------------------------------------------------------------

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

static uint64_t cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (uint64_t)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000u + (uint64_t)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static void die(int code, const char *fmt, ...) {
  va_list a;
  va_start(a, fmt);
  fputs("wsbench: ", stderr);
  vfprintf(stderr, fmt, a);
  fputc('\n', stderr);
  va_end(a);
  exit(code);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) die(2, "out of memory (%zu bytes)", n);
  return q;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) die(2, "out of memory (%zu x %zu bytes)", n, size);
  return p;
}

// An error line on stderr; after MAX_SHOWN_ERRORS of them only the counters say more. Mismatches
// (wrong payloads) have a quota of their own, so that a flood of them cannot hide other errors.
static void show_line(unsigned long *shown, const char *what, const char *fmt, va_list a) {
  if ((*shown)++ >= MAX_SHOWN_ERRORS) {
    if (*shown == MAX_SHOWN_ERRORS + 1) fprintf(stderr, "wsbench: further %s are counted, not shown\n", what);
    return;
  }
  fputs("wsbench: ", stderr);
  vfprintf(stderr, fmt, a);
  fputc('\n', stderr);
}

static void show_error(const char *fmt, ...) {
  va_list a;
  va_start(a, fmt);
  show_line(&shown_errors, "errors", fmt, a);
  va_end(a);
}

static void show_mismatch(const char *fmt, ...) {
  va_list a;
  va_start(a, fmt);
  show_line(&shown_mismatches, "mismatches", fmt, a);
  va_end(a);
}

// splitmix64, seeded from getrandom: frame masks and test data (the handshake keys come from RAND_bytes).
static uint64_t rng_state;
static uint64_t rnd64(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Writes v as exactly n decimal digits (the n lowest ones), two digits per division.
static char pairs[200];
static void put_dec(uint8_t *d, uint64_t v, size_t n) {
  while (n >= 2) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    n -= 2;
    memcpy(d + n, pairs + 2 * r, 2);
  }
  if (n) d[0] = (uint8_t)('0' + v % 10);
}

// Reads exactly n decimal digits; 0 if one is not a digit.
static int get_dec(const uint8_t *s, size_t n, uint64_t *v) {
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    x = x * 10 + (uint64_t)(s[i] - '0');
  }
  *v = x;
  return 1;
}

// dst = src XOR the 4-byte masking key (as it appears on the wire); dst may be src. 64 bytes per step as
// four 16-byte vectors (GCC/Clang vector extensions: SSE2 on x86-64 with plain -O2), then 8-byte words.
typedef uint64_t u64x2 __attribute__((vector_size(16)));
static void mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4]) {
  uint32_t k32;
  memcpy(&k32, key, 4);
  uint64_t k64 = (uint64_t)k32 << 32 | k32;
  u64x2 kv = {k64, k64};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    u64x2 a, b, c, d;
    memcpy(&a, src + i, 16); memcpy(&b, src + i + 16, 16); memcpy(&c, src + i + 32, 16); memcpy(&d, src + i + 48, 16);
    a ^= kv; b ^= kv; c ^= kv; d ^= kv;
    memcpy(dst + i, &a, 16); memcpy(dst + i + 16, &b, 16); memcpy(dst + i + 32, &c, 16); memcpy(dst + i + 48, &d, 16);
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, src + i, 8);
    v ^= k64;
    memcpy(dst + i, &v, 8);
  }
  for (; i < n; i++) dst[i] = src[i] ^ key[i & 3];
}

static void mask_bytes(uint8_t *p, size_t n, const uint8_t key[4]) { mask_copy(p, p, n, key); }

// Writes n bytes at offset off of a payload being masked with key (the key's phase follows the offset).
static void put_masked(uint8_t *payload, size_t off, const uint8_t *b, size_t n, const uint8_t key[4]) {
  for (size_t i = 0; i < n; i++) payload[off + i] = b[i] ^ key[(off + i) & 3];
}

// ---- latency histogram: exact below 256 ns, then 128 sub-buckets per power of two (< 0.8 % error) -------

#define HSUB 128
#define HBUCKETS (256 + 56 * HSUB)
static uint64_t hist[HBUCKETS], hist_n;

static void hist_add(uint64_t v) {
  unsigned b;
  if (v < 256) b = (unsigned)v;
  else {
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    b = 256 + (e - 8) * HSUB + (unsigned)((v >> (e - 7)) & (HSUB - 1));
  }
  hist[b]++;
  hist_n++;
}

// The p-th quantile in microseconds (the middle of its bucket); 0 without samples.
static double hist_us(double p) {
  if (!hist_n) return 0;
  uint64_t want = (uint64_t)(p * (double)hist_n + 0.999999), seen = 0;
  if (want < 1) want = 1;
  for (unsigned b = 0; b < HBUCKETS; b++) {
    seen += hist[b];
    if (seen < want) continue;
    if (b < 256) return b / 1000.0;
    unsigned e = (b - 256) / HSUB + 8, sub = (b - 256) % HSUB;
    uint64_t lo = (uint64_t)(HSUB + sub) << (e - 7);
    return (double)(lo + ((1ull << (e - 7)) >> 1)) / 1000.0;
  }
  return 0;
}

static int in_window(uint64_t t) { return t >= win_start && t < win_end; }

// ---- payloads --------------------------------------------------------------------------------------------

// Four bodies of o.size bytes: printable ASCII (text), every byte value (binary), or JSON-like chat
// messages (-z), different from each other so that consecutive messages differ beyond their headers. With -z there
// are up to 256 bodies (within 8 MiB in all), each its own word sequence over a shared vocabulary: compressible the
// way chat or API traffic is, and no body comes back within a deflate window of 32 KiB, so context takeover finds
// common words and fields in earlier messages, not whole earlier messages.
static void make_variants(void) {
  static const char charset[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;-_";
  static const char *const users[NVARIANTS] = {"alice", "bob", "carol", "dave"};
  static const char *const rooms[NVARIANTS] = {"lobby", "general", "random", "builds"};
  static const char *const words[] = {"the", "build", "passed", "on", "main", "and", "latency", "looks",
                                      "fine", "shipping", "tonight", "please", "review", "my", "change",
                                      "thanks", "again", "deploy", "rollback", "green", "tests", "server"};
  size_t nwords = sizeof words / sizeof words[0], s = o.size;
  nvariants = NVARIANTS;
  if (o.deflate) {
    nvariants = (8u << 20) / (s + 1);
    nvariants = nvariants > ZVARIANTS ? ZVARIANTS : nvariants < NVARIANTS ? NVARIANTS : nvariants;
  }
  variants = xcalloc(nvariants, sizeof *variants);
  for (uint64_t v = 0; v < nvariants; v++) {
    uint8_t *t = variants[v] = xcalloc(s + 1, 1);
    if (o.deflate) {
      size_t cap = s + 512, n;
      char *j = xcalloc(cap, 1);
      n = (size_t)snprintf(j, cap, "{\"seq\":\"%0*d\",\"user\":\"%s\",\"room\":\"%s\",\"text\":\"", ECHO_HDR, 0,
                           users[v % NVARIANTS], rooms[(v / NVARIANTS) % NVARIANTS]);
      uint64_t seed = 0x51ed + (uint64_t)v;
      while (n < s + 64) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        const char *w = words[(seed >> 33) % nwords];
        size_t wl = strlen(w);
        if (n + wl + 1 >= cap) break;
        memcpy(j + n, w, wl);
        n += wl;
        j[n++] = ' ';
      }
      memcpy(t, j, s);
      if (s >= 8 + ECHO_HDR + 2) { t[s - 2] = '"'; t[s - 1] = '}'; }
      free(j);
    } else if (o.binary) {
      uint64_t seed = 0xb1 + (uint64_t)v * 0x9e3779b9u;
      for (size_t i = 0; i < s; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t[i] = (uint8_t)(seed >> 56);
      }
    } else {
      for (size_t i = 0; i < s; i++) t[i] = (uint8_t)charset[(i + 17 * (size_t)v + i / 67) % (sizeof charset - 1)];
    }
  }
  hdr_off = o.deflate && s >= 8 + ECHO_HDR + 2 ? 8 : 0;
}

// The echo header of message seq of connection c: "ssssssssss:cccccc " (or the lowest digits of the
// sequence number when the payload is shorter). Returns its length; it goes at hdr_off.
static size_t echo_header(uint8_t h[ECHO_HDR], const conn *c, uint64_t seq) {
  size_t room = o.size - hdr_off;
  if (room >= ECHO_HDR) {
    put_dec(h, seq, 10);
    h[10] = ':';
    memcpy(h + 11, c->idtxt, 6);
    h[17] = ' ';
    return ECHO_HDR;
  }
  put_dec(h, seq, room);
  return room;
}

static void echo_payload(uint8_t *p, const conn *c, uint64_t seq) {
  uint8_t h[ECHO_HDR];
  memcpy(p, variants[seq % nvariants], o.size);
  memcpy(p + hdr_off, h, echo_header(h, c, seq));
}

// 0 if p[0, n) is exactly echo payload seq of connection c; else the first differing offset + 1.
static size_t echo_differs(const uint8_t *p, size_t n, const conn *c, uint64_t seq) {
  uint8_t h[ECHO_HDR];
  const uint8_t *t = variants[seq % nvariants];
  size_t hl = echo_header(h, c, seq);
  if (n == o.size && !memcmp(p, t, hdr_off) && !memcmp(p + hdr_off, h, hl) &&
      !memcmp(p + hdr_off + hl, t + hdr_off + hl, o.size - hdr_off - hl))
    return 0;
  for (size_t i = 0; i < n && i < o.size; i++) {
    uint8_t want = i >= hdr_off && i < hdr_off + hl ? h[i - hdr_off] : t[i];
    if (p[i] != want) return i + 1;
  }
  return (n < o.size ? n : o.size) + 1;
}

// ---- output: frames into the connection's write buffer ---------------------------------------------------

static void mark_dirty(conn *c) {
  if (!c->dirty) {
    c->dirty = 1;
    dirty_list[ndirty++] = c;
  }
}

static uint8_t *wb_reserve(conn *c, size_t n) {
  if (c->wcap - c->wlen < n) {
    if (c->wpos) {
      memmove(c->wb, c->wb + c->wpos, c->wlen - c->wpos);
      c->wlen -= c->wpos;
      c->wpos = 0;
    }
    if (c->wcap - c->wlen < n) {
      size_t cap = c->wcap ? c->wcap : 512;
      while (cap - c->wlen < n) cap *= 2;
      c->wb = xrealloc(c->wb, cap);
      c->wcap = cap;
    }
  }
  return c->wb + c->wlen;
}

// Appends the header of a masked frame of len payload bytes; returns where the payload goes (the caller
// writes it there and masks it with *key).
static uint8_t *frame_begin(conn *c, unsigned b0, size_t len, uint8_t key[4]) {
  uint8_t *f = wb_reserve(c, len + 14);
  size_t h = 0;
  f[h++] = (uint8_t)b0;
  if (len < 126) f[h++] = (uint8_t)(0x80 | len);
  else if (len < 65536) { f[h++] = 0x80 | 126; f[h++] = (uint8_t)(len >> 8); f[h++] = (uint8_t)len; }
  else { f[h++] = 0x80 | 127; for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)len >> (8 * i)); }
  uint32_t k = (uint32_t)rnd64();
  memcpy(f + h, &k, 4);
  memcpy(key, &k, 4);
  h += 4;
  c->wlen += h + len;
  mark_dirty(c);
  return f + h;
}

static void send_frame(conn *c, unsigned b0, const uint8_t *pl, size_t n) {
  uint8_t key[4], *p = frame_begin(c, b0, n, key);
  memcpy(p, pl, n);
  mask_bytes(p, n, key);
}

static void send_close(conn *c, unsigned code) {
  uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  send_frame(c, 0x88, b, 2);
}

static void conn_fail(conn *c, const char *fmt, ...);

// Sends payload p of n bytes as one message; with permessage-deflate, compressed (RSV1 set).
static void send_message(conn *c, const uint8_t *p, size_t n) {
  unsigned op = o.binary ? 2 : 1;
  if (!c->pmd) { send_frame(c, 0x80 | op, p, n); return; }
  if (!c->zd) {
    c->zd = xcalloc(1, sizeof *c->zd);
    int bits = c->cwbits ? c->cwbits : 15;
    if (deflateInit2(c->zd, 1, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) die(2, "deflateInit2 failed");
  }
  z_stream *z = c->zd;
  z->next_in = (Bytef *)p;
  z->avail_in = (uInt)n;
  z->next_out = zbuf;
  z->avail_out = (uInt)zbuf_cap;
  int r = deflate(z, Z_SYNC_FLUSH);
  size_t out = zbuf_cap - z->avail_out;
  if (r != Z_OK || z->avail_in || out < 4 || memcmp(zbuf + out - 4, "\0\0\xff\xff", 4)) {
    conn_fail(c, "deflate failed (%d)", r);
    return;
  }
  if (c->cnct) deflateReset(z);
  send_frame(c, 0xc0 | op, zbuf, out - 4);
}

// Queues echo message number c->sseq (connection id and sequence number in its header).
static void echo_send(conn *c, uint64_t now) {
  uint64_t seq = c->sseq++;
  c->ts[seq % (uint64_t)(o.mode == M_ECHO ? o.depth : 1)] = now;
  c->inflight++;
  if (c->pmd) {
    echo_payload(zin, c, seq);
    send_message(c, zin, o.size);
    return;
  }
  // One pass: the body comes masked straight from its variant, then the header goes in masked.
  uint8_t key[4], h[ECHO_HDR], *p = frame_begin(c, 0x80 | (o.binary ? 2u : 1u), o.size, key);
  mask_copy(p, variants[seq % nvariants], o.size, key);
  put_masked(p, hdr_off, h, echo_header(h, c, seq), key);
}

// ---- connection lifecycle --------------------------------------------------------------------------------

static void set_interest(conn *c, int want_out) {
  uint32_t ev = EPOLLIN | (want_out ? EPOLLOUT : 0);
  if (c->events == ev || c->fd < 0) return;
  struct epoll_event e = {.events = ev, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) == 0) c->events = ev;
}

// Closes the socket; rst: SO_LINGER 0, so the close sends RST and leaves no TIME_WAIT.
static void conn_close(conn *c, int rst) {
  if (c->ssl) {
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  if (c->fd >= 0) {
    if (rst) {
      struct linger l = {1, 0};
      setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c->fd);
  }
  if (c->zd) { deflateEnd(c->zd); free(c->zd); c->zd = NULL; }
  if (c->zi) { inflateEnd(c->zi); free(c->zi); c->zi = NULL; }
  c->fd = -1;
  c->state = ST_DEAD;
  c->events = 0;
  c->blocked = 0;
  c->rlen = c->wlen = c->wpos = c->mlen = 0;
  c->in_msg = 0;
  c->inflight = 0;
  c->deadline = 0;
  c->pmd = c->snct = c->cnct = c->cwbits = 0;
}

static void churn_requeue(conn *c, uint64_t at);
static uint64_t churn_cycles_ok, idle_waiting;
static int churn_running;

// A connection failed: count and show the error, close it, and let the mode carry on without it.
static void conn_fail(conn *c, const char *fmt, ...) {
  char msg[512];
  va_list a;
  va_start(a, fmt);
  vsnprintf(msg, sizeof msg, fmt, a);
  va_end(a);
  int was_opening = c->state < ST_OPEN, state = c->state, waiting = c->inflight > 0;
  show_error("connection %d: %s", c->id, msg);
  st.errors++;
  conn_close(c, 1);
  if (o.mode == M_IDLE && state == ST_OPEN && waiting && idle_waiting) idle_waiting--;
  uint64_t now = now_ns();
  if (o.mode == M_CHURN) {
    if (!churn_cycles_ok && was_opening && (strstr(msg, "refused") || strstr(msg, "handshake")))
      die(2, "cannot open a connection to %s:%d%s, giving up", o.host, o.port, o.path);
    churn_requeue(c, now + 10 * MS);
  } else if (was_opening) {
    failed_opens++;
    pending_opens--;
    if (!opened && (strstr(msg, "refused") || strstr(msg, "handshake")))
      die(2, "cannot open a connection to %s:%d%s, giving up", o.host, o.port, o.path);
  } else if (state == ST_CLOSING || state == ST_DRAIN) {
    closing_left--;
  }
}

static void connected(conn *c);

// Opens connection c: socket, optional source address, non-blocking connect.
static void conn_start(conn *c, uint64_t now) {
  int one = 1, fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c->state = ST_CONNECTING;
  c->t_start = now;
  c->deadline = now + (o.mode == M_CHURN ? CYCLE_TIMEOUT : OPEN_TIMEOUT);
  c->fd = fd;
  if (fd < 0) { conn_fail(c, "socket: %s", strerror(errno)); return; }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (o.nsrc) {
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(c->id % o.nsrc))};
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src)) {
      conn_fail(c, "bind to 127.0.0.%d: %s", 1 + c->id % o.nsrc, strerror(errno));
      return;
    }
  }
  int r = connect(fd, (struct sockaddr *)&dst, dst_len);
  if (r && errno != EINPROGRESS) {
    conn_fail(c, "connect to %s:%d: %s", o.host, o.port, strerror(errno));
    return;
  }
  struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) { conn_fail(c, "epoll_ctl: %s", strerror(errno)); return; }
  c->events = EPOLLOUT;
  if (r == 0) connected(c);
}

// Queues the upgrade request (RFC 6455 section 4.1) with a fresh random key.
static void queue_upgrade(conn *c) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1)
    for (int i = 0; i < 16; i += 8) { uint64_t v = rnd64(); memcpy(raw + i, &v, 8); }
  EVP_EncodeBlock((unsigned char *)c->key, raw, sizeof raw);
  char req[2048];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   o.path, host_header, c->key,
                   o.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
  memcpy(wb_reserve(c, (size_t)n), req, (size_t)n);
  c->wlen += (size_t)n;
  mark_dirty(c);
  c->state = ST_UPGRADE;
}

static void tls_step(conn *c) {
  ERR_clear_error();
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    queue_upgrade(c);
    set_interest(c, 1);
    return;
  }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ) set_interest(c, 0);
  else if (e == SSL_ERROR_WANT_WRITE) set_interest(c, 1);
  else {
    char eb[256] = "connection closed";
    unsigned long le = ERR_get_error();
    if (le) ERR_error_string_n(le, eb, sizeof eb);
    else if (e == SSL_ERROR_SYSCALL && errno) snprintf(eb, sizeof eb, "%s", strerror(errno));
    conn_fail(c, "TLS handshake: %s", eb);
  }
}

static void connected(conn *c) {
  if (!o.tls) {
    queue_upgrade(c);
    set_interest(c, 1);
    return;
  }
  c->ssl = SSL_new(ssl_ctx);
  if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) { conn_fail(c, "SSL_new failed"); return; }
  SSL_set_connect_state(c->ssl);
  SSL_set_tlsext_host_name(c->ssl, o.host);
  c->state = ST_TLS;
  tls_step(c);
}

// Sends what the connection has queued, in one send (or SSL_write). A connection is flushed right after its
// input was handled (so the server gets the new messages while the rest of the turn is processed), and the
// flush list catches what other steps queued; when the socket took less than offered, nothing more is tried
// until it reports EPOLLOUT.
static void conn_flush(conn *c) {
  if (c->fd < 0 || c->state < ST_UPGRADE || c->state == ST_DEAD || c->blocked) return;
  size_t n = c->wlen - c->wpos;
  if (n) {
    ssize_t w;
    if (c->ssl) {
      ERR_clear_error();
      int r = SSL_write(c->ssl, c->wb + c->wpos, n > INT_MAX ? INT_MAX : (int)n);
      if (r > 0) w = r;
      else {
        int e = SSL_get_error(c->ssl, r);
        if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
          conn_fail(c, "TLS write failed (SSL error %d)", e);
          return;
        }
        w = 0;
      }
    } else {
      w = send(c->fd, c->wb + c->wpos, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          conn_fail(c, "send: %s", strerror(errno));
          return;
        }
        w = 0;
      }
    }
    c->wpos += (size_t)w;
    if (c->wpos == c->wlen) c->wpos = c->wlen = 0;
    else c->blocked = 1;
  }
  set_interest(c, c->wlen > c->wpos);
}

static void flush_dirty(void) {
  // conn_flush may fail a connection, which may (churn) queue it again: walk by index.
  for (int i = 0; i < ndirty; i++) {
    conn *c = dirty_list[i];
    c->dirty = 0;
    if (c->wlen > c->wpos) conn_flush(c);
  }
  ndirty = 0;
}

// ---- handshake response ----------------------------------------------------------------------------------

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
  return s;
}

// Parses the server's Sec-WebSocket-Extensions answer into c->pmd and its parameters.
static int parse_extensions(conn *c, char *v, char *err, size_t errlen) {
  char *s1, *s2;
  for (char *ext = strtok_r(v, ",", &s1); ext; ext = strtok_r(NULL, ",", &s1)) {
    char *name = strtok_r(ext, ";", &s2);
    name = name ? trim(name) : "";
    if (!o.deflate || strcasecmp(name, "permessage-deflate")) {
      snprintf(err, errlen, "handshake: the server accepted an extension that was not offered: %s", name);
      return -1;
    }
    if (c->pmd) { snprintf(err, errlen, "handshake: permessage-deflate accepted twice"); return -1; }
    c->pmd = 1;
    for (char *p; (p = strtok_r(NULL, ";", &s2));) {
      p = trim(p);
      char *val = strchr(p, '=');
      if (val) {
        *val++ = 0;
        p = trim(p);
        val = trim(val);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') { val[vl - 1] = 0; val++; }
      }
      int bits = val ? atoi(val) : 0;
      if (!strcasecmp(p, "server_no_context_takeover") && !val) c->snct = 1;
      else if (!strcasecmp(p, "client_no_context_takeover") && !val) c->cnct = 1;
      else if (!strcasecmp(p, "server_max_window_bits") && bits >= 8 && bits <= 15) (void)bits;
      else if (!strcasecmp(p, "client_max_window_bits") && bits >= 8 && bits <= 15) {
        if (bits == 8) {
          snprintf(err, errlen, "handshake: the server granted client_max_window_bits=8, which zlib cannot produce");
          return -1;
        }
        c->cwbits = (uint8_t)bits;
      } else {
        snprintf(err, errlen, "handshake: unsupported permessage-deflate parameter %s%s%s", p, val ? "=" : "", val ? val : "");
        return -1;
      }
    }
  }
  return 0;
}

static void on_open(conn *c, uint64_t now);

// Checks the 101 response; 0 when more bytes are needed, 1 when the connection is open, -1 on failure.
static int parse_upgrade(conn *c, uint64_t now) {
  uint8_t *end = memmem(c->rb, c->rlen, "\r\n\r\n", 4);
  if (!end) {
    if (c->rlen > 16384) { conn_fail(c, "handshake: response headers longer than 16 KiB"); return -1; }
    return 0;
  }
  size_t hlen = (size_t)(end - c->rb) + 4;
  char *h = (char *)c->rb, *eol = memmem(h, hlen, "\r\n", 2);
  *eol = 0;
  if (strncmp(h, "HTTP/1.1 101", 12) || (h[12] != ' ' && h[12] != 0)) {
    conn_fail(c, "handshake: %.200s", h);
    return -1;
  }
  char accept[64], want[64], err[300] = "";
  unsigned char md[EVP_MAX_MD_SIZE], in[128];
  unsigned mdlen = 0;
  int n = snprintf((char *)in, sizeof in, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
  EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
  EVP_EncodeBlock((unsigned char *)want, md, (int)mdlen);
  int upgrade = 0, connection = 0, have_accept = 0;
  for (char *line = eol + 2; line < (char *)end + 2;) {
    char *e = memmem(line, (size_t)((char *)end + 2 - line), "\r\n", 2);
    *e = 0;
    char *colon = strchr(line, ':');
    if (colon) {
      *colon = 0;
      char *name = trim(line), *val = trim(colon + 1);
      if (!strcasecmp(name, "Upgrade")) upgrade = !strcasecmp(val, "websocket");
      else if (!strcasecmp(name, "Connection")) connection = strcasestr(val, "upgrade") != NULL;
      else if (!strcasecmp(name, "Sec-WebSocket-Accept")) {
        snprintf(accept, sizeof accept, "%s", val);
        have_accept = 1;
      } else if (!strcasecmp(name, "Sec-WebSocket-Extensions") && parse_extensions(c, val, err, sizeof err)) {
        conn_fail(c, "%s", err);
        return -1;
      }
    }
    line = e + 2;
  }
  if (!upgrade) { conn_fail(c, "handshake: no \"Upgrade: websocket\" in the 101 response"); return -1; }
  if (!connection) { conn_fail(c, "handshake: no \"Connection: Upgrade\" in the 101 response"); return -1; }
  if (!have_accept) { conn_fail(c, "handshake: no Sec-WebSocket-Accept in the 101 response"); return -1; }
  if (strcmp(accept, want)) {
    conn_fail(c, "handshake: Sec-WebSocket-Accept is %s, expected %s", accept, want);
    return -1;
  }
  if (o.deflate && !c->pmd) {
    conn_fail(c, "handshake: the server declined permessage-deflate (no Sec-WebSocket-Extensions in its 101 response)");
    return -1;
  }
  if (c->pmd && !pmd_announced++ && !o.quiet)
    fprintf(stderr, "wsbench: permessage-deflate granted:%s%s client window %d bits\n",
            c->snct ? " server_no_context_takeover," : " server keeps its context,",
            c->cnct ? " client_no_context_takeover," : "", c->cwbits ? c->cwbits : 15);
  memmove(c->rb, c->rb + hlen, c->rlen - hlen);
  c->rlen -= hlen;
  c->state = ST_OPEN;
  if (o.mode != M_CHURN) c->deadline = 0;
  on_open(c, now);
  return c->state == ST_DEAD ? -1 : 1;
}

// ---- input: frames ---------------------------------------------------------------------------------------

static int on_message(conn *c, unsigned op, const uint8_t *p, size_t n, size_t wire, uint64_t now);
static int on_close_frame(conn *c, unsigned code, const uint8_t *reason, size_t rlen, uint64_t now);

// Inflates a compressed message into zout; -1 (and counts a mismatch) if it does not inflate.
static int inflate_message(conn *c, const uint8_t *in, size_t n, size_t *outn) {
  static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
  if (!c->zi) {
    c->zi = xcalloc(1, sizeof *c->zi);
    if (inflateInit2(c->zi, -15) != Z_OK) die(2, "inflateInit2 failed");
  } else if (c->snct) {
    inflateReset(c->zi);
  }
  z_stream *z = c->zi;
  z->next_out = zout;
  z->avail_out = (uInt)zout_cap;
  const char *why = NULL;
  for (int part = 0; part < 2 && !why; part++) {
    z->next_in = (Bytef *)(part ? tail : in);
    z->avail_in = (uInt)(part ? 4 : n);
    while (z->avail_in && !why) {
      int r = inflate(z, Z_SYNC_FLUSH);
      if (r == Z_STREAM_END) { inflateReset(z); if (z->avail_in && part == 0) why = "data after the final block"; break; }
      if (r == Z_BUF_ERROR && !z->avail_out) why = "inflates to more bytes than were sent";
      else if (r != Z_OK && r != Z_BUF_ERROR) why = z->msg ? z->msg : "invalid deflate data";
    }
  }
  if (why) {
    st.mismatches++;
    show_mismatch("connection %d: a compressed message does not inflate: %s", c->id, why);
    inflateReset(z);
    return -1;
  }
  *outn = zout_cap - z->avail_out;
  return 0;
}

static int deliver(conn *c, unsigned op, int compressed, const uint8_t *p, size_t n, size_t wire, uint64_t now) {
  if (compressed) {
    if (inflate_message(c, p, n, &n)) {
      if (o.mode == M_ECHO || o.mode == M_IDLE || o.mode == M_CHURN) {  // the echo it was is lost
        c->rseq++;
        if (c->inflight) c->inflight--;
      }
      return 0;
    }
    p = zout;
  }
  return on_message(c, op, p, n, wire, now);
}

// Parses every complete frame in c->rb. Returns -1 if the connection was closed meanwhile.
static int parse_frames(conn *c, uint64_t now) {
  size_t pos = 0, need = 0;
  int rc = 0;
  while (c->rlen - pos >= 2) {
    uint8_t *f = c->rb + pos;
    size_t avail = c->rlen - pos, h = 2;
    uint64_t len = f[1] & 127;
    unsigned b0 = f[0], op = b0 & 15, fin = b0 >> 7, rsv1 = (b0 >> 6) & 1;
    if (f[1] & 0x80) { conn_fail(c, "the server sent a masked frame"); return -1; }
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t)f[2] << 8 | f[3];
      h = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i];
      h = 10;
    }
    if (len > MAX_MESSAGE) { conn_fail(c, "the server sent a frame of %llu bytes", (unsigned long long)len); return -1; }
    if (avail < h + len) { need = h + (size_t)len; break; }
    const uint8_t *pl = f + h;
    size_t plen = (size_t)len, wire = h + plen;
    pos += wire;
    if (b0 & 0x30) { conn_fail(c, "the server set RSV2/RSV3 (0x%02x)", b0); return -1; }
    if (op & 8) {
      if (!fin || plen > 125 || rsv1) { conn_fail(c, "invalid control frame (0x%02x, %zu bytes)", b0, plen); return -1; }
      if (op == 8) {
        unsigned code = plen >= 2 ? (unsigned)pl[0] << 8 | pl[1] : 1005;
        rc = on_close_frame(c, code, pl + (plen >= 2 ? 2 : plen), plen >= 2 ? plen - 2 : 0, now);
      } else if (op == 9) {
        if (c->state == ST_OPEN || c->state == ST_CLOSING) send_frame(c, 0x8a, pl, plen);
      } else if (op != 10) {
        conn_fail(c, "the server sent reserved opcode %u", op);
        return -1;
      }
    } else if (op > 2) {
      conn_fail(c, "the server sent reserved opcode %u", op);
      return -1;
    } else if (op != 0) {
      if (c->in_msg) { conn_fail(c, "a new message began before the previous one ended"); return -1; }
      if (rsv1 && !c->pmd) { conn_fail(c, "the server set RSV1 without permessage-deflate"); return -1; }
      if (fin) rc = deliver(c, op, rsv1, pl, plen, wire, now);
      else {
        c->in_msg = 1;
        c->mop = (uint8_t)op;
        c->mrsv1 = (uint8_t)rsv1;
        c->mlen = 0;
        c->mwire = 0;
      }
    } else if (!c->in_msg) {
      conn_fail(c, "a continuation frame without a message");
      return -1;
    } else if (rsv1) {
      conn_fail(c, "RSV1 set on a continuation frame");
      return -1;
    }
    if (!(op & 8) && c->in_msg && c->state != ST_DEAD) {   // a fragment: collect it
      if (c->mlen + plen > MAX_MESSAGE) { conn_fail(c, "a fragmented message over %u bytes", MAX_MESSAGE); return -1; }
      if (c->mcap < c->mlen + plen) {
        c->mcap = (c->mlen + plen) * 2;
        c->mb = xrealloc(c->mb, c->mcap);
      }
      memcpy(c->mb + c->mlen, pl, plen);
      c->mlen += plen;
      c->mwire += wire;
      if (fin && op == 0) {
        c->in_msg = 0;
        rc = deliver(c, c->mop, c->mrsv1, c->mb, c->mlen, c->mwire, now);
      }
    }
    if (rc < 0 || c->state == ST_DEAD || c->fd < 0) return -1;
  }
  if (pos) {
    memmove(c->rb, c->rb + pos, c->rlen - pos);
    c->rlen -= pos;
  }
  if (need > c->rcap) {
    c->rcap = need + 4096;
    c->rb = xrealloc(c->rb, c->rcap);
  }
  return 0;
}

static void on_eof(conn *c, uint64_t now);

// Reads what the socket has and handles it.
static void on_readable(conn *c, uint64_t now) {
  for (;;) {
    if (c->rcap - c->rlen < 1024) {
      c->rcap = c->rcap * 2 + 1024;
      c->rb = xrealloc(c->rb, c->rcap);
    }
    size_t room = c->rcap - c->rlen;
    ssize_t r;
    if (c->ssl) {
      ERR_clear_error();
      int k = SSL_read(c->ssl, c->rb + c->rlen, room > INT_MAX ? INT_MAX : (int)room);
      if (k > 0) r = k;
      else {
        int e = SSL_get_error(c->ssl, k);
        if (e == SSL_ERROR_WANT_READ) return;
        if (e == SSL_ERROR_WANT_WRITE) { set_interest(c, 1); return; }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !ERR_peek_error() && !errno)) r = 0;
        else {
          char eb[256] = "";
          unsigned long le = ERR_get_error();
          if (le) ERR_error_string_n(le, eb, sizeof eb);
          else snprintf(eb, sizeof eb, "%s", strerror(errno));
          conn_fail(c, "TLS read: %s (in state %s)", eb, state_names[c->state]);
          return;
        }
      }
    } else {
      r = recv(c->fd, c->rb + c->rlen, room, 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        conn_fail(c, "recv: %s (in state %s)", strerror(errno), state_names[c->state]);
        return;
      }
    }
    if (r == 0) { on_eof(c, now); return; }
    c->rlen += (size_t)r;
    if (c->state == ST_UPGRADE) {
      int u = parse_upgrade(c, now);
      if (u <= 0) { if (u < 0) return; continue; }
    }
    if (parse_frames(c, now) < 0) return;
    if (!c->ssl && (size_t)r < room) return;   // the socket is drained
  }
}

// While a connection's input is handled, the frames it answers with are built in one shared staging buffer,
// which stays in the cache, and sent from there right away; only what the socket does not take is copied into
// the connection's own write buffer. (With 100 connections of 16 KiB messages, building every frame in its
// connection's buffer cost about 15 % more CPU per message.) Not for TLS, nor when output is already waiting.
static uint8_t *stage, *stage_own;
static size_t stage_cap, stage_own_cap;

static int stage_begin(conn *c) {
  if (c->ssl || c->wlen) return 0;
  if (!stage) {
    stage_cap = 1 << 20;
    stage = xrealloc(NULL, stage_cap);
  }
  stage_own = c->wb;
  stage_own_cap = c->wcap;
  c->wb = stage;
  c->wcap = stage_cap;
  return 1;
}

static void stage_end(conn *c) {
  stage = c->wb;                  // wb_reserve may have grown it
  stage_cap = c->wcap;
  size_t pos = c->wpos, left = c->wlen - c->wpos;
  c->wb = stage_own;
  c->wcap = stage_own_cap;
  c->wpos = c->wlen = 0;
  if (left) {
    memcpy(wb_reserve(c, left), stage + pos, left);
    c->wlen = left;
  }
}

static void on_event(conn *c, uint32_t ev) {
  uint64_t now = now_ns();
  switch (c->state) {
  case ST_CONNECTING: {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) conn_fail(c, "connect to %s:%d: %s", o.host, o.port, strerror(err));
    else if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) connected(c);
    return;
  }
  case ST_TLS:
    tls_step(c);
    return;
  case ST_UPGRADE: case ST_OPEN: case ST_CLOSING: case ST_DRAIN: {
    if (ev & EPOLLOUT) c->blocked = 0;
    int staged = stage_begin(c);
    if (c->ssl || (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(c, now);
    if (c->fd >= 0 && c->wlen > c->wpos) conn_flush(c);
    if (staged) stage_end(c);
    return;
  }
  default:
    return;
  }
}

// ---- modes: what happens on open, on a message, on a close frame, at EOF ---------------------------------

static uint64_t idle_echoed;
static int churn_active;

static void on_open(conn *c, uint64_t now) {
  if (o.mode == M_CHURN) {
    echo_send(c, now);
    return;
  }
  opened++;
  pending_opens--;
}

static void echo_mismatch(conn *c, uint64_t seq, unsigned op, const uint8_t *p, size_t n) {
  st.mismatches++;
  size_t at;
  if ((op == 2) != (o.binary != 0))
    show_mismatch("connection %d: echo %llu came back as a %s message", c->id, (unsigned long long)seq, op == 2 ? "binary" : "text");
  else if (n != o.size)
    show_mismatch("connection %d: echo %llu has %zu bytes, %zu were sent", c->id, (unsigned long long)seq, n, o.size);
  else if ((at = echo_differs(p, n, c, seq)))
    show_mismatch("connection %d: echo %llu differs from what was sent at byte %zu", c->id, (unsigned long long)seq, at - 1);
}

static void fanout_message(conn *c, unsigned op, const uint8_t *p, size_t n, uint64_t now);

static int on_message(conn *c, unsigned op, const uint8_t *p, size_t n, size_t wire, uint64_t now) {
  if (c->state != ST_OPEN) return 0;   // closing: late echoes do not count
  if (o.mode == M_FANOUT) {
    fanout_message(c, op, p, n, now);
    return 0;
  }
  if (!c->inflight) {
    st.mismatches++;
    show_mismatch("connection %d: a message of %zu bytes arrived with nothing in flight", c->id, n);
    return 0;
  }
  uint64_t seq = c->rseq++;
  c->inflight--;
  int ok = (op == 2) == (o.binary != 0) && !echo_differs(p, n, c, seq);
  if (!ok) echo_mismatch(c, seq, op, p, n);
  uint64_t lat = now - c->ts[seq % (uint64_t)(o.mode == M_ECHO ? o.depth : 1)];
  st.total++;
  switch (o.mode) {
  case M_ECHO:
    if (in_window(now)) {
      st.msgs++;
      st.bytes += n;
      st.wire += wire;
      hist_add(lat);
    }
    if (sending && now < win_end) echo_send(c, now);
    break;
  case M_IDLE:
    if (ok) idle_echoed++;
    idle_waiting--;
    break;
  case M_CHURN:
    if (!ok) { conn_fail(c, "churn cycle: wrong echo"); return -1; }
    send_close(c, 1000);
    c->state = ST_CLOSING;
    break;
  }
  return 0;
}

static void churn_cycle_done(conn *c, uint64_t now) {
  if (in_window(now)) {
    st.cycles++;
    hist_add(now - c->t_start);
  }
  st.total++;
  churn_cycles_ok++;
  conn_close(c, 0);
  churn_requeue(c, now);
}

static int on_close_frame(conn *c, unsigned code, const uint8_t *reason, size_t rlen, uint64_t now) {
  if (c->state == ST_CLOSING) {
    if (o.mode == M_CHURN && code != 1000) {
      conn_fail(c, "the server answered the close with code %u, expected 1000", code);
      return -1;
    }
    c->state = ST_DRAIN;   // the server closes TCP next
    c->deadline = now + DRAIN_TIMEOUT;
    return 0;
  }
  if (c->state == ST_DRAIN) return 0;
  conn_fail(c, "server closed with %u%s%.*s", code, rlen ? ": " : "", (int)(rlen > 100 ? 100 : rlen), (const char *)reason);
  return -1;
}

static void on_eof(conn *c, uint64_t now) {
  switch (c->state) {
  case ST_DRAIN:
    if (o.mode == M_CHURN && churn_running >= 0 && c->inflight == 0) { churn_cycle_done(c, now); return; }
    closing_left--;
    conn_close(c, 0);
    return;
  case ST_CLOSING:
    if (o.mode == M_CHURN) { conn_fail(c, "the server closed TCP without answering the close frame"); return; }
    closing_left--;     // end of run: the server may close without a close frame of its own
    conn_close(c, 0);
    return;
  case ST_UPGRADE:
    conn_fail(c, "handshake: the server closed the connection before answering");
    return;
  default:
    conn_fail(c, "the server closed the TCP connection without a close frame");
  }
}

// ---- the event loop --------------------------------------------------------------------------------------

typedef int (*done_fn)(void);
static void (*mode_tick)(uint64_t now);
static uint64_t tick_ns = 100 * MS;        // longest sleep between mode ticks
static uint64_t next_sweep, next_progress, last_progress_total, last_progress_at;
static void progress(uint64_t now);

// Connection deadlines, checked every 100 ms.
static void sweep(uint64_t now) {
  for (int i = 0; i < o.conns; i++) {
    conn *c = &conns[i];
    if (!c->deadline || c->deadline > now || c->fd < 0) continue;
    if (c->state == ST_DRAIN) {
      // The close handshake is done but the server keeps the TCP connection: close it ourselves with RST.
      st.rst_closes++;
      closing_left -= o.mode != M_CHURN;
      if (o.mode == M_CHURN && churn_running >= 0) {
        // The cycle still counts; its latency includes the wait.
        if (in_window(now)) { st.cycles++; hist_add(now - c->t_start); }
        st.total++;
        churn_cycles_ok++;
        conn_close(c, 1);
        churn_requeue(c, now);
      } else {
        conn_close(c, 1);
      }
      continue;
    }
    conn_fail(c, "timed out in state %s", state_names[c->state]);
  }
}

// Runs turns until `until` (ns) or until done() says so.
static void run_loop(uint64_t until, done_fn done) {
  static struct epoll_event evs[1024];
  for (;;) {
    uint64_t now = now_ns();
    if (mode_tick) mode_tick(now);
    flush_dirty();
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + 100 * MS;
      if (now >= next_progress) progress(now);
    }
    if ((done && done()) || now >= until) return;
    uint64_t wake = until;
    if (next_sweep < wake) wake = next_sweep;
    if (now + tick_ns < wake) wake = now + tick_ns;
    int ms = wake > now ? (int)((wake - now + MS - 1) / MS) : 0;
    int n = epoll_wait(ep, evs, 1024, ms);
    if (n < 0 && errno != EINTR) die(2, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
    flush_dirty();
  }
}

// Opening connections, at most MAX_PENDING_OPENS at a time (echo, idle, fanout).
static void open_tick(uint64_t now) {
  while (next_open < o.conns && pending_opens < MAX_PENDING_OPENS) {
    conn *c = &conns[next_open++];
    pending_opens++;
    conn_start(c, now);
  }
}
static int all_opened(void) { return opened + failed_opens >= o.conns; }

static void open_all(void) {
  mode_tick = open_tick;
  run_loop(UINT64_MAX, all_opened);
  mode_tick = NULL;
}

static int closing_done(void) { return closing_left <= 0; }

// Sends close 1000 on every open connection and waits (up to `timeout`) for the servers' answers.
static void close_all(uint64_t timeout) {
  uint64_t now = now_ns();
  closing_left = 0;
  for (int i = 0; i < o.conns; i++) {
    conn *c = &conns[i];
    if (c->state != ST_OPEN) continue;
    send_close(c, 1000);
    c->state = ST_CLOSING;
    c->deadline = 0;
    closing_left++;
  }
  run_loop(now + timeout, closing_done);
  for (int i = 0; i < o.conns; i++)
    if (conns[i].fd >= 0) conn_close(&conns[i], 0);
}

static void progress(uint64_t now) {
  next_progress = now + NS;
  if (o.quiet) return;
  double t = (double)(now - t_origin) / NS, dt = last_progress_at ? (double)(now - last_progress_at) / NS : 0;
  uint64_t d = st.total - last_progress_total;
  last_progress_total = st.total;
  last_progress_at = now;
  if (o.mode != M_CHURN && opened + failed_opens < o.conns) {
    fprintf(stderr, "wsbench: %.0f s: %d of %d connections open\n", t, opened, o.conns);
    return;
  }
  if (!dt || (o.mode == M_IDLE)) return;
  const char *what = o.mode == M_ECHO ? "msgs/s" : o.mode == M_CHURN ? "cycles/s" : "deliveries/s";
  fprintf(stderr, "wsbench: %.0f s: %.0f %s, errors %llu\n", t, (double)d / dt, what, (unsigned long long)st.errors);
}

static double cpu_pct(uint64_t cpu0, uint64_t cpu1, uint64_t w0, uint64_t w1) {
  return w1 > w0 ? (double)(cpu1 - cpu0) * 1000.0 * 100.0 / (double)(w1 - w0) : 0;
}

// ---- echo ------------------------------------------------------------------------------------------------

static int run_echo(void) {
  open_all();
  if (failed_opens) die(2, "%d of %d connections could not be opened", failed_opens, o.conns);
  uint64_t now = now_ns();
  win_start = now + NS;
  win_end = win_start + (uint64_t)(o.secs * NS);
  sending = 1;
  for (int i = 0; i < o.conns; i++)
    for (int d = 0; d < o.depth; d++) echo_send(&conns[i], now);
  run_loop(win_start, NULL);
  uint64_t c0 = cpu_us(), w0 = now_ns();
  run_loop(win_end, NULL);
  uint64_t c1 = cpu_us(), w1 = now_ns();
  sending = 0;
  int alive = 0;
  for (int i = 0; i < o.conns; i++) alive += conns[i].state == ST_OPEN;
  close_all(NS);
  double secs = (double)(win_end - win_start) / NS;
  printf("mode=echo conns=%d alive=%d size=%zu depth=%d msgs=%llu secs=%.2f msgs_per_s=%.0f MiB_per_s=%.1f "
         "p50_us=%.0f p99_us=%.0f p999_us=%.0f errors=%llu mismatches=%llu client_cpu_pct=%.0f",
         o.conns, alive, o.size, o.depth, (unsigned long long)st.msgs, secs, (double)st.msgs / secs,
         (double)st.bytes / secs / 1048576.0, hist_us(0.50), hist_us(0.99), hist_us(0.999),
         (unsigned long long)st.errors, (unsigned long long)st.mismatches, cpu_pct(c0, c1, w0, w1));
  if (o.deflate) printf(" wire_bytes_per_msg=%.1f", st.msgs ? (double)st.wire / (double)st.msgs : 0.0);
  printf("\n");
  return st.errors || st.mismatches || alive < o.conns ? 1 : 0;
}

// ---- idle ------------------------------------------------------------------------------------------------

static long rss_kb(int pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) { kb = strtol(line + 6, NULL, 10); break; }
  fclose(f);
  return kb;
}

static int idle_done(void) { return idle_waiting == 0; }

static int run_idle(void) {
  uint64_t c0 = cpu_us(), w0 = now_ns();
  long before = o.pid ? rss_kb(o.pid) : 0;
  open_all();
  fprintf(stderr, "connections open: %d\n", opened);
  if (failed_opens) fprintf(stderr, "wsbench: %d of %d connections could not be opened\n", failed_opens, o.conns);
  run_loop(now_ns() + (uint64_t)(o.secs * NS), NULL);
  long after = o.pid ? rss_kb(o.pid) : 0;
  uint64_t now = now_ns();
  for (int i = 0; i < o.conns; i++)
    if (conns[i].state == ST_OPEN) { echo_send(&conns[i], now); idle_waiting++; }
  run_loop(now + 30 * NS, idle_done);
  for (int i = 0; i < o.conns; i++)
    if (conns[i].state == ST_OPEN && conns[i].inflight) {
      st.errors++;
      show_error("connection %d: no echo within 30 s after the hold", conns[i].id);
    }
  uint64_t c1 = cpu_us(), w1 = now_ns();
  if (o.pid)
    printf("server_rss_kb_before=%ld after=%ld per_conn_bytes=%lld\n", before, after,
           opened ? (long long)(after - before) * 1024 / opened : 0);
  printf("idle: opened=%d alive_and_echoing=%llu errors=%llu mismatches=%llu client_cpu_pct=%.0f\n", opened,
         (unsigned long long)idle_echoed, (unsigned long long)st.errors, (unsigned long long)st.mismatches,
         cpu_pct(c0, c1, w0, w1));
  fflush(stdout);
  close_all(2 * NS);
  if (opened < o.conns) return 2;
  return idle_echoed == (uint64_t)o.conns && !st.errors && !st.mismatches ? 0 : 1;
}

// ---- churn -----------------------------------------------------------------------------------------------

// Slots waiting to start their next cycle, first in first out, each with the earliest time to start.
static conn **startq;
static uint64_t *startq_at;
static int sq_head, sq_len;

static void churn_requeue(conn *c, uint64_t at) {
  churn_active--;
  if (churn_running <= 0) return;
  int i = (sq_head + sq_len++) % o.conns;
  startq[i] = c;
  startq_at[i] = at;
}

static void churn_tick(uint64_t now) {
  while (sq_len && startq_at[sq_head] <= now && churn_running > 0) {
    conn *c = startq[sq_head];
    sq_head = (sq_head + 1) % o.conns;
    sq_len--;
    churn_active++;
    c->sseq = c->rseq = 0;
    conn_start(c, now);
  }
}

static int churn_idle(void) { return churn_active <= 0; }

static int run_churn(void) {
  uint64_t now = now_ns();
  churn_running = 1;
  win_start = now + NS;
  win_end = win_start + (uint64_t)(o.secs * NS);
  churn_active = o.conns;
  for (int i = 0; i < o.conns; i++) churn_requeue(&conns[i], now);
  mode_tick = churn_tick;
  tick_ns = 10 * MS;
  run_loop(win_start, NULL);
  uint64_t c0 = cpu_us(), w0 = now_ns();
  run_loop(win_end, NULL);
  uint64_t c1 = cpu_us(), w1 = now_ns();
  churn_running = 0;          // cycles under way finish, no new ones start
  sq_len = 0;
  run_loop(now_ns() + 2 * NS, churn_idle);
  churn_running = -1;
  for (int i = 0; i < o.conns; i++)
    if (conns[i].fd >= 0) conn_close(&conns[i], 1);
  double secs = (double)(win_end - win_start) / NS;
  if (st.rst_closes)
    fprintf(stderr, "wsbench: %llu times the server kept the TCP connection open for 1 s after the close handshake;"
                    " closed it with RST\n", (unsigned long long)st.rst_closes);
  printf("mode=churn conns=%d cycles=%llu cycles_per_s=%.0f p50_us=%.0f p99_us=%.0f errors=%llu client_cpu_pct=%.0f\n",
         o.conns, (unsigned long long)st.cycles, (double)st.cycles / secs, hist_us(0.50), hist_us(0.99),
         (unsigned long long)(st.errors + st.mismatches), cpu_pct(c0, c1, w0, w1));
  return st.errors || st.mismatches || !st.cycles ? 1 : 0;
}

// ---- fanout ----------------------------------------------------------------------------------------------

static void fan_send(conn *c, uint64_t now) {
  uint64_t seq = c->sseq++;
  uint8_t h[FAN_HDR];
  memcpy(h, c->idtxt + 1, 5);
  h[5] = ':';
  put_dec(h + 6, seq, 10);
  h[16] = ':';
  put_dec(h + 17, now - t_origin, 14);
  h[31] = '|';
  if (c->pmd) {
    memcpy(zin, variants[seq % nvariants], o.size);
    memcpy(zin, h, FAN_HDR);
    send_message(c, zin, o.size);
  } else {
    uint8_t key[4], *p = frame_begin(c, 0x80 | (o.binary ? 2u : 1u), o.size, key);
    mask_copy(p, variants[seq % nvariants], o.size, key);
    put_masked(p, 0, h, FAN_HDR, key);
  }
  c->inflight++;
  st.sent_total++;
  if (in_window(now)) st.sent++;
}

static void fanout_message(conn *c, unsigned op, const uint8_t *p, size_t n, uint64_t now) {
  uint64_t sender, seq, ts;
  if (n != o.size || (op == 2) != (o.binary != 0) || !get_dec(p, 5, &sender) || p[5] != ':' ||
      !get_dec(p + 6, 10, &seq) || p[16] != ':' || !get_dec(p + 17, 14, &ts) || p[31] != '|' ||
      sender >= (uint64_t)fan_senders) {
    st.errors++;
    show_mismatch("connection %d: a message that no connection sent (%zu bytes: %.32s)", c->id, n, (const char *)p);
    return;
  }
  if (memcmp(p + FAN_HDR, variants[seq % nvariants] + FAN_HDR, o.size - FAN_HDR)) {
    st.errors++;
    show_mismatch("connection %d: message %llu of connection %llu arrived corrupted", c->id,
               (unsigned long long)seq, (unsigned long long)sender);
    return;
  }
  // A gap (a later message first) shows as missing at the end unless the skipped one comes after all;
  // a message older than one already delivered (late, or a duplicate) is out of order.
  uint32_t *e = &fan_exp[(size_t)c->id * (size_t)fan_senders + sender];
  if (seq < *e) {
    st.out_of_order++;
    show_mismatch("connection %d: message %llu of connection %llu arrived after message %u", c->id,
                  (unsigned long long)seq, (unsigned long long)sender, *e - 1);
  } else {
    *e = (uint32_t)seq + 1;
  }
  st.delivered_total++;
  st.total++;
  if (in_window(now)) {
    st.delivered++;
    hist_add(now - (t_origin + ts));
  }
  if (sender == (uint64_t)c->id && c->inflight) {
    c->inflight--;
    if (sending && now < win_end && o.rate <= 0) fan_send(c, now);
  }
}

// With -r: every connection sends on its own schedule, spread over the period.
static void fan_tick(uint64_t now) {
  if (!sending || now >= win_end) return;
  double el = (double)(now - fan_t0) / NS * o.rate;
  uint32_t cap = o.depth_set ? (uint32_t)o.depth : UINT32_MAX;
  for (int i = 0; i < fan_senders; i++) {
    conn *c = &conns[i];
    if (c->state != ST_OPEN) continue;
    double due_f = el - (double)i / o.conns;
    if (due_f < 0) continue;
    uint64_t due = (uint64_t)due_f + 1;
    for (int k = 0; k < 64 && c->sseq < due && c->inflight < cap && c->wlen - c->wpos < (4u << 20); k++) fan_send(c, now);
  }
}

static int fanout_done(void) {
  uint64_t alive = 0;
  for (int i = 0; i < o.conns; i++) alive += conns[i].state == ST_OPEN;
  return st.delivered_total >= st.sent_total * alive;
}

static int run_fanout(void) {
  fan_senders = o.one_sender ? 1 : o.conns;
  fan_exp = xcalloc((size_t)o.conns * (size_t)fan_senders, sizeof *fan_exp);
  open_all();
  if (failed_opens) die(2, "%d of %d connections could not be opened", failed_opens, o.conns);
  run_loop(now_ns() + 100 * MS, NULL);   // let the server put the last members in the room
  uint64_t now = now_ns();
  fan_t0 = now;
  win_start = now + NS;
  win_end = win_start + (uint64_t)(o.secs * NS);
  sending = 1;
  if (o.rate > 0) {
    mode_tick = fan_tick;
    tick_ns = MS;
  } else {
    for (int i = 0; i < fan_senders; i++)
      for (int d = 0; d < o.depth; d++) fan_send(&conns[i], now);
  }
  run_loop(win_start, NULL);
  uint64_t c0 = cpu_us(), w0 = now_ns();
  run_loop(win_end, NULL);
  uint64_t c1 = cpu_us(), w1 = now_ns();
  sending = 0;
  mode_tick = NULL;
  run_loop(now_ns() + 2 * NS, fanout_done);
  uint64_t expected = st.sent_total * (uint64_t)o.conns;
  uint64_t missing = expected > st.delivered_total ? expected - st.delivered_total : 0;
  close_all(NS);
  double secs = (double)(win_end - win_start) / NS;
  printf("mode=fanout conns=%d sent=%llu delivered=%llu deliveries_per_s=%.0f p50_us=%.0f p99_us=%.0f missing=%llu "
         "out_of_order=%llu errors=%llu client_cpu_pct=%.0f\n",
         o.conns, (unsigned long long)st.sent, (unsigned long long)st.delivered, (double)st.delivered / secs,
         hist_us(0.50), hist_us(0.99), (unsigned long long)missing, (unsigned long long)st.out_of_order,
         (unsigned long long)(st.errors + st.mismatches), cpu_pct(c0, c1, w0, w1));
  if (missing) fprintf(stderr, "wsbench: %llu of %llu deliveries are missing\n", (unsigned long long)missing, (unsigned long long)expected);
  return missing || st.out_of_order || st.errors || st.mismatches ? 1 : 0;
}

// ---- main ------------------------------------------------------------------------------------------------

static void usage(void) {
  fputs("usage: wsbench [-h host] [-p port] [-u path] [-c conns] [-s bytes] [-d depth] [-t secs] [-b] [-i]\n"
        "               [-n srcaddrs] [-P serverpid] [-q] [-z] [-S] [-m echo|idle|churn|fanout] [-r rate] [-o]\n"
        "See the comment at the top of bench/load/wsbench.c.\n", stderr);
  exit(2);
}

static long num_arg(const char *s, int opt, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi) die(2, "-%c %s: expected a whole number from %ld to %ld", opt, s, lo, hi);
  return v;
}

static double real_arg(const char *s, int opt, double lo, double hi) {
  char *end;
  double v = strtod(s, &end);
  if (*end || end == s || !(v >= lo && v <= hi)) die(2, "-%c %s: expected a number from %g to %g", opt, s, lo, hi);
  return v;
}

// Only loopback targets: 127.0.0.0/8, ::1 or "localhost".
static void resolve_target(void) {
  struct sockaddr_in *a4 = (struct sockaddr_in *)&dst;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&dst;
  memset(&dst, 0, sizeof dst);
  if (!strcmp(o.host, "localhost") || inet_pton(AF_INET, o.host, &a4->sin_addr) == 1) {
    if (!strcmp(o.host, "localhost")) a4->sin_addr.s_addr = htonl(0x7f000001u);
    if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
      die(2, "-h %s: refusing a target outside 127.0.0.0/8 and ::1 (this client loads loopback servers only)", o.host);
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)o.port);
    dst_len = sizeof *a4;
    snprintf(host_header, sizeof host_header, "%s:%d", o.host, o.port);
  } else if (inet_pton(AF_INET6, o.host, &a6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
      die(2, "-h %s: refusing a target outside 127.0.0.0/8 and ::1 (this client loads loopback servers only)", o.host);
    if (o.nsrc) die(2, "-n spreads over IPv4 source addresses; it does not go with -h %s", o.host);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)o.port);
    dst_len = sizeof *a6;
    snprintf(host_header, sizeof host_header, "[%s]:%d", o.host, o.port);
  } else {
    die(2, "-h %s: not a loopback address (use 127.x.x.x, ::1 or localhost)", o.host);
  }
}

int main(int argc, char **argv) {
  int ch;
  const char *mode = NULL;
  while ((ch = getopt(argc, argv, "h:p:u:c:s:d:t:bin:P:qzSm:r:o")) != -1) {
    switch (ch) {
    case 'h': o.host = optarg; break;
    case 'p': o.port = (int)num_arg(optarg, ch, 1, 65535); break;
    case 'u': o.path = optarg; break;
    case 'c': o.conns = (int)num_arg(optarg, ch, 1, 1000000); break;
    case 's': o.size = (size_t)num_arg(optarg, ch, 1, MAX_MESSAGE - 1024); break;
    case 'd': o.depth = (int)num_arg(optarg, ch, 1, 1 << 20); o.depth_set = 1; break;
    case 't': o.secs = real_arg(optarg, ch, 0, 86400); break;
    case 'b': o.binary = 1; break;
    case 'i': mode = "idle"; break;
    case 'n': o.nsrc = (int)num_arg(optarg, ch, 1, 254); break;
    case 'P': o.pid = (int)num_arg(optarg, ch, 1, INT_MAX); break;
    case 'q': o.quiet = 1; break;
    case 'z': o.deflate = 1; break;
    case 'S': o.tls = 1; break;
    case 'm': mode = optarg; break;
    case 'r': o.rate = real_arg(optarg, ch, 0, 1e7); break;
    case 'o': o.one_sender = 1; break;
    default: usage();
    }
  }
  if (optind != argc) usage();
  if (mode) {
    int m = -1;
    for (int i = 0; i < 4; i++) if (!strcmp(mode, mode_names[i])) m = i;
    if (m < 0) die(2, "-m %s: the modes are echo, idle, churn and fanout", mode);
    o.mode = m;
  }
  if (o.path[0] != '/' || strpbrk(o.path, " \r\n")) die(2, "-u %s: a path starts with / and has no spaces", o.path);
  if (o.mode != M_IDLE && o.secs < 0.1) die(2, "-t %g: measure at least 0.1 s", o.secs);
  if (o.mode == M_FANOUT && o.size < FAN_HDR) die(2, "-s %zu: fanout messages need at least %d bytes", o.size, FAN_HDR);
  if (o.one_sender && o.mode != M_FANOUT) die(2, "-o is for -m fanout");
  if (o.mode == M_FANOUT && !o.one_sender && o.conns > MAX_FANOUT_CONNS) die(2, "-c %d: fanout takes at most %d connections", o.conns, MAX_FANOUT_CONNS);
  if (o.mode == M_FANOUT && o.conns > 99999) die(2, "fanout sender ids have 5 digits");
  if (o.rate > 0 && o.mode != M_FANOUT) die(2, "-r is for -m fanout");
  if (o.pid && o.mode != M_IDLE) die(2, "-P is for idle mode (-i)");
  if (o.pid && rss_kb(o.pid) < 0) die(2, "-P %d: cannot read VmRSS from /proc/%d/status", o.pid, o.pid);
  resolve_target();

  // One descriptor per connection, plus a few.
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) {
    rlim_t want = (rlim_t)o.conns + 16;
    if (rl.rlim_cur < want) {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want)
      die(2, "-c %d needs %llu descriptors but this process may open %llu (ulimit -n); split the connections over several processes",
          o.conns, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
  }
  if (!o.nsrc && o.mode == M_IDLE && o.conns > 28000)
    fprintf(stderr, "wsbench: %d connections from one source address may run out of ports; consider -n\n", o.conns);

  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < 100; i++) { pairs[2 * i] = (char)('0' + i / 10); pairs[2 * i + 1] = (char)('0' + i % 10); }
  if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state) rng_state = (uint64_t)now_ns() ^ (uint64_t)getpid();
  make_variants();
  zout_cap = o.size + 1024;
  zout = xcalloc(zout_cap, 1);
  zbuf_cap = o.size + o.size / 8 + 1024;   // more than deflate can make of o.size bytes, sync flush included
  zbuf = xcalloc(zbuf_cap, 1);
  zin = xcalloc(o.size, 1);
  if (o.tls) {
    ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!ssl_ctx) die(2, "SSL_CTX_new failed");
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  (o.mode == M_IDLE ? SSL_MODE_RELEASE_BUFFERS : 0));
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die(2, "epoll_create1: %s", strerror(errno));
  conns = xcalloc((size_t)o.conns, sizeof *conns);
  dirty_list = xcalloc((size_t)o.conns, sizeof *dirty_list);
  size_t rcap = o.mode == M_IDLE ? 1024 + o.size : o.mode == M_CHURN ? 4096 + o.size : 65536;
  int ring = o.mode == M_ECHO ? o.depth : 1;
  for (int i = 0; i < o.conns; i++) {
    conn *c = &conns[i];
    c->id = i;
    put_dec(c->idtxt, (uint64_t)i, 6);
    c->fd = -1;
    c->rcap = rcap;
    c->rb = xrealloc(NULL, rcap);
    c->ts = xcalloc((size_t)ring, sizeof *c->ts);
  }
  if (o.mode == M_CHURN) {
    startq = xcalloc((size_t)o.conns, sizeof *startq);
    startq_at = xcalloc((size_t)o.conns, sizeof *startq_at);
  }
  t_origin = now_ns();
  next_progress = t_origin + NS;
  next_sweep = t_origin + 100 * MS;
  int rc;
  switch (o.mode) {
  case M_ECHO: rc = run_echo(); break;
  case M_IDLE: rc = run_idle(); break;
  case M_CHURN: rc = run_churn(); break;
  default: rc = run_fanout(); break;
  }
  fflush(stdout);
  return rc;
}
