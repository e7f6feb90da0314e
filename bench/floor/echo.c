// bench/floor/echo.c: the least work a WebSocket echo server can do, as a yardstick for bench/run.sh.
//
// One thread, epoll (level-triggered), one recv and at most one send per readable event. It answers the
// handshake (any Sec-WebSocket-Key: SHA-1 and base64 are written out below, so that it builds with plain
// `cc -O2`), unmasks 8 bytes at a time and echoes every complete frame with a single send.
// It checks nothing a real server must check (no UTF-8 validation, no close handshake, no limits): its
// throughput is what the load generator manages against a server that costs next to nothing, i.e. the
// ceiling of a scenario on this machine, not a competitor.
//
// Usage: echo [--port N] [--stats]   (--stats is accepted and ignored: the bench passes it to every server)
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUF = 1 << 20 };

// A connection owns a buffer only while it holds part of a frame (or of its handshake).
typedef struct { int fd, open; uint8_t *rest; size_t rest_len; } conn_t;

static uint8_t in[BUF], out[BUF + 16];

// SHA-1 (FIPS 180-4) of a short message: only the handshake uses it.
static void sha1(const uint8_t *msg, size_t len, uint8_t digest[20]) {
  uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0}, w[80];
  size_t total = (len + 9 + 63) / 64 * 64;   // the message, 0x80, zeros, and its length in bits
  for (size_t off = 0; off < total; off += 64) {
    uint8_t b[64];
    for (size_t i = 0; i < 64; i++) b[i] = off + i < len ? msg[off + i] : off + i == len ? 0x80 : 0;
    if (off + 64 == total)
      for (int i = 0; i < 8; i++) b[56 + i] = (uint8_t)((uint64_t)len * 8 >> (56 - 8 * i));
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++) { uint32_t x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]; w[i] = x << 1 | x >> 31; }
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f = i < 20 ? (bb & c) | (~bb & d) : i < 40 || i >= 60 ? bb ^ c ^ d : (bb & c) | (bb & d) | (c & d);
      uint32_t k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      uint32_t t = (a << 5 | a >> 27) + f + e + k + w[i];
      e = d; d = c; c = bb << 30 | bb >> 2; bb = a; a = t;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e;
  }
  for (int i = 0; i < 20; i++) digest[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

// Writes the 101 response for the request's Sec-WebSocket-Key into r; its length, or 0 without a key.
static size_t handshake_response(const uint8_t *req, size_t n, char *r, size_t cap) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint8_t *k = memmem(req, n, "Sec-WebSocket-Key:", 18);
  if (!k) k = memmem(req, n, "sec-websocket-key:", 18);
  if (!k) return 0;
  k += 18;
  while (k < req + n && *k == ' ') k++;
  const uint8_t *e = k;
  while (e < req + n && *e != '\r' && *e != ' ') e++;
  uint8_t buf[128], d[20];
  size_t kl = (size_t)(e - k);
  if (!kl || kl + 36 > sizeof buf) return 0;
  memcpy(buf, k, kl);
  memcpy(buf + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
  sha1(buf, kl + 36, d);
  char acc[29];
  for (int i = 0, j = 0; i < 21; i += 3) {   // 20 bytes: six whole groups and one of two bytes
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | (i + 2 < 20 ? d[i + 2] : 0);
    acc[j++] = b64[v >> 18]; acc[j++] = b64[v >> 12 & 63]; acc[j++] = b64[v >> 6 & 63];
    acc[j++] = i + 2 < 20 ? b64[v & 63] : '=';
  }
  acc[28] = 0;
  int w = snprintf(r, cap, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
  return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

static void drop(conn_t *c) { close(c->fd); free(c->rest); free(c); }

// Sends all of b, waiting for room if the socket's buffer is full; 0 on failure.
static int send_all(int fd, const uint8_t *b, size_t n) {
  while (n) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN) return 0;
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, 1000);
      continue;
    }
    b += w; n -= (size_t)w;
  }
  return 1;
}

static void unmask(uint8_t *dst, const uint8_t *src, uint64_t len, const uint8_t key[4]) {
  uint64_t k64; uint32_t k32; memcpy(&k32, key, 4); k64 = (uint64_t)k32 << 32 | k32;
  uint64_t i = 0;
  for (; i + 8 <= len; i += 8) { uint64_t v; memcpy(&v, src + i, 8); v ^= k64; memcpy(dst + i, &v, 8); }
  for (; i < len; i++) dst[i] = src[i] ^ key[i & 3];
}

// Echoes every complete frame of b[0..n); returns how many bytes it consumed, or -1 to close.
static ssize_t echo_frames(conn_t *c, const uint8_t *b, size_t n) {
  size_t used = 0, o = 0;
  while (n - used >= 6) {
    const uint8_t *f = b + used;
    uint64_t len = f[1] & 127; size_t h = 2;
    if (!(f[1] & 0x80) || (f[0] & 15) == 8) return -1;  // unmasked frame or close: hang up
    if (len == 126) { if (n - used < 8) break; len = (uint64_t)f[2] << 8 | f[3]; h = 4; }
    else if (len == 127) { if (n - used < 14) break; len = 0; for (int k = 0; k < 8; k++) len = len << 8 | f[2 + k]; h = 10; }
    if (len > BUF - 14) return -1;
    if (n - used < h + 4 + len) break;
    if (o + len + 10 > sizeof out) { if (!send_all(c->fd, out, o)) return -1; o = 0; }
    out[o++] = f[0];
    if (len < 126) out[o++] = (uint8_t)len;
    else if (len < 65536) { out[o++] = 126; out[o++] = (uint8_t)(len >> 8); out[o++] = (uint8_t)len; }
    else { out[o++] = 127; for (int k = 7; k >= 0; k--) out[o++] = (uint8_t)(len >> (8 * k)); }
    unmask(out + o, f + h + 4, len, f + h);
    o += len; used += h + 4 + len;
  }
  if (o && !send_all(c->fd, out, o)) return -1;
  return (ssize_t)used;
}

static void on_readable(conn_t *c) {
  size_t n = c->rest_len;
  if (n) memcpy(in, c->rest, n);
  ssize_t r = recv(c->fd, in + n, BUF - n, 0);
  if (r < 0 && errno == EAGAIN) return;
  if (r <= 0) { drop(c); return; }
  n += (size_t)r;
  size_t used = 0;
  if (!c->open) {
    uint8_t *end = memmem(in, n, "\r\n\r\n", 4);
    if (!end) { if (n > 8192) { drop(c); return; } goto keep; }
    char response[256];
    size_t rl = handshake_response(in, (size_t)(end - in), response, sizeof response);
    if (!rl || !send_all(c->fd, (const uint8_t *)response, rl)) { drop(c); return; }
    c->open = 1;
    used = (size_t)(end + 4 - in);
  }
  ssize_t e = echo_frames(c, in + used, n - used);
  if (e < 0) { drop(c); return; }
  used += (size_t)e;
keep:
  c->rest_len = n - used;
  if (!c->rest_len) { free(c->rest); c->rest = NULL; return; }
  uint8_t *rest = realloc(c->rest, c->rest_len);
  if (!rest) { drop(c); return; }
  c->rest = rest;
  memcpy(c->rest, in + used, c->rest_len);
}

int main(int argc, char **argv) {
  int port = 9300, one = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--stats")) { fprintf(stderr, "usage: echo [--port N] [--stats]\n"); return 2; }
  }
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
  if (l < 0 || bind(l, (void *)&a, sizeof a) || listen(l, 4096)) { perror("listen"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(ep, evs, 512, -1);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c) { on_readable(c); continue; }
      int fd;
      while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_t *nc = calloc(1, sizeof *nc);
        if (!nc) { close(fd); continue; }
        nc->fd = fd;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) drop(nc);
      }
    }
  }
}
