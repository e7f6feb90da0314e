// bench/zlib/params.c: zlib alone, on the bench's permessage-deflate messages, for choosing WsGen's deflate
// parameters: CPU time and compressed bytes per message for one level, window and memory level, in shared mode (one
// deflater reset after every message, as WsGen's shared mode) or dedicated mode (100 deflaters with context takeover,
// the messages of 100 connections interleaved, as WsGen's dedicated mode under wsbench -c 100).
//
// The messages are wsbench's -z bodies (bench/load/wsbench.c, make_variants and echo_header): JSON-like chat text
// over a small vocabulary, a sequence number and connection id near the start.
//
// Build and run (Debian's zlib1g-dev, the zlib WsGen loads at run time):
//   cc -O2 -o /tmp/zparams bench/zlib/params.c -lz -ldl
//   /tmp/zparams SIZE LEVEL WINDOW_BITS MEM_LEVEL shared|dedicated [zlib|zlibng]
// zlibng runs the same calls through the zlib-ng inside .NET's own libSystem.IO.Compression.Native.so (its
// CompressionNative_* exports over .NET's PAL_ZStream; the path from ZNG_LIB, or the newest .NET 10 runtime under
// /usr/share/dotnet). That library has no DeflateReset: shared mode ends each message with Z_FULL_FLUSH instead
// (the hash is cleared, so no message refers back to another; the output still ends with 00 00 FF FF).
// In shared mode, each of the first 10% of the messages (not timed) is checked: it ends with 00 00 FF FF and a fresh
// inflater (Debian's zlib) decodes it alone into the message.
// Prints one line: size, parameters, mode, compressed bytes per message (without the 4-byte tail), CPU us per
// message (process CPU time over the last 90% of the messages). Only relative figures mean anything: the same
// machine, one after another (bench/results/deflate-params.md).
#include <dlfcn.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define CONNS 100
#define ECHO_HDR 18

// .NET's PAL_ZStream (dotnet/runtime src/native/libs/System.IO.Compression.Native/pal_zlib.h).
typedef struct {
  uint8_t *next_in, *next_out;
  char *msg;
  void *internal_state;
  uint32_t avail_in, avail_out;
} pal_zstream;

static int (*ng_deflate_init2)(pal_zstream *, int32_t, int32_t, int32_t, int32_t, int32_t);
static int (*ng_deflate)(pal_zstream *, int32_t);

static int load_zlibng(void) {
  const char *path = getenv("ZNG_LIB");
  glob_t g = {0};
  if (!path) {
    if (glob("/usr/share/dotnet/shared/Microsoft.NETCore.App/10.*/libSystem.IO.Compression.Native.so", 0, NULL, &g) ||
        !g.gl_pathc)
      return 0;
    path = g.gl_pathv[g.gl_pathc - 1];
  }
  void *lib = dlopen(path, RTLD_NOW);
  if (!lib) return 0;
  ng_deflate_init2 = (int (*)(pal_zstream *, int32_t, int32_t, int32_t, int32_t, int32_t))dlsym(lib, "CompressionNative_DeflateInit2_");
  ng_deflate = (int (*)(pal_zstream *, int32_t))dlsym(lib, "CompressionNative_Deflate");
  return ng_deflate_init2 && ng_deflate;
}

// A fresh raw inflater decodes out[0, n) alone into exactly message[0, size), and the output ends with the tail.
static int decodes_alone(const unsigned char *out, size_t n, const unsigned char *message, size_t size,
                         unsigned char *check) {
  static const unsigned char tail[4] = {0, 0, 0xff, 0xff};
  if (n < 4 || memcmp(out + n - 4, tail, 4)) return 0;
  z_stream i = {0};
  if (inflateInit2(&i, -15) != Z_OK) return 0;
  i.next_in = (unsigned char *)out;
  i.avail_in = (unsigned)n;
  i.next_out = check;
  i.avail_out = (unsigned)size + 1;
  int rc = inflate(&i, Z_SYNC_FLUSH), ok = rc == Z_OK && !i.avail_in && i.avail_out == 1 && !memcmp(check, message, size);
  inflateEnd(&i);
  return ok;
}

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if ((argc != 6 && argc != 7) || (strcmp(argv[5], "shared") && strcmp(argv[5], "dedicated")) ||
      (argc == 7 && strcmp(argv[6], "zlib") && strcmp(argv[6], "zlibng"))) {
    fprintf(stderr, "usage: params SIZE LEVEL WINDOW_BITS MEM_LEVEL shared|dedicated [zlib|zlibng]\n");
    return 2;
  }
  int ng = argc == 7 && !strcmp(argv[6], "zlibng");
  if (ng && !load_zlibng()) { fprintf(stderr, "cannot load .NET's zlib-ng\n"); return 1; }
  size_t size = (size_t)atoi(argv[1]);
  int level = atoi(argv[2]), window_bits = atoi(argv[3]), mem_level = atoi(argv[4]), shared = !strcmp(argv[5], "shared");
  if (size < 64) { fprintf(stderr, "SIZE must be 64 or more\n"); return 2; }

  static const char *const users[4] = {"alice", "bob", "carol", "dave"};
  static const char *const rooms[4] = {"lobby", "general", "random", "builds"};
  static const char *const words[] = {"the", "build", "passed", "on", "main", "and", "latency", "looks",
                                      "fine", "shipping", "tonight", "please", "review", "my", "change",
                                      "thanks", "again", "deploy", "rollback", "green", "tests", "server"};
  size_t nwords = sizeof words / sizeof words[0];
  size_t nvariants = (8u << 20) / (size + 1);
  nvariants = nvariants > 256 ? 256 : nvariants < 4 ? 4 : nvariants;
  char **variants = calloc(nvariants, sizeof *variants);
  for (size_t v = 0; v < nvariants; v++) {
    size_t cap = size + 512, n;
    char *text = calloc(cap, 1);
    n = (size_t)snprintf(text, cap, "{\"seq\":\"%0*d\",\"user\":\"%s\",\"room\":\"%s\",\"text\":\"", ECHO_HDR, 0,
                         users[v % 4], rooms[(v / 4) % 4]);
    uint64_t seed = 0x51ed + (uint64_t)v;
    while (n < size + 64) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      const char *w = words[(seed >> 33) % nwords];
      size_t wl = strlen(w);
      if (n + wl + 1 >= cap) break;
      memcpy(text + n, w, wl);
      n += wl;
      text[n++] = ' ';
    }
    variants[v] = malloc(size);
    memcpy(variants[v], text, size);
    variants[v][size - 2] = '"';
    variants[v][size - 1] = '}';
    free(text);
  }

  int streams = shared ? 1 : CONNS;
  z_stream *z = calloc((size_t)streams, sizeof *z);
  pal_zstream *p = calloc((size_t)streams, sizeof *p);
  for (int i = 0; i < streams; i++)
    if ((ng ? ng_deflate_init2(&p[i], level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY)
            : deflateInit2(&z[i], level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY)) != Z_OK) {
      fprintf(stderr, "deflateInit2 failed\n");
      return 1;
    }

  size_t out_size = size * 2 + 64;
  unsigned char *out = malloc(out_size), *message = malloc(size), *check = malloc(size + 1);
  uint64_t seq[CONNS] = {0};
  int total = size > 4000 ? 20000 : 200000, first = total / 10;
  double start = 0, bytes = 0;
  for (int m = 0; m < total; m++) {
    int c = m % CONNS;
    uint64_t q = seq[c]++;
    char header[ECHO_HDR + 1];
    memcpy(message, variants[q % nvariants], size);
    snprintf(header, sizeof header, "%010llu:%06d ", (unsigned long long)q, c);
    memcpy(message + 8, header, ECHO_HDR);
    if (m == first) { start = cpu_seconds(); bytes = 0; }
    if (ng) {
      pal_zstream *d = &p[shared ? 0 : c];
      d->next_in = message;
      d->avail_in = (uint32_t)size;
      d->next_out = out;
      d->avail_out = (uint32_t)out_size;
      if (ng_deflate(d, shared ? Z_FULL_FLUSH : Z_SYNC_FLUSH) != Z_OK || d->avail_in) {
        fprintf(stderr, "deflate failed\n");
        return 1;
      }
      bytes += (double)(out_size - d->avail_out - 4);
      if (shared && m < first && !decodes_alone(out, out_size - d->avail_out, message, size, check)) {
        fprintf(stderr, "message %d does not decode alone\n", m);
        return 1;
      }
      continue;
    }
    z_stream *d = &z[shared ? 0 : c];
    d->next_in = message;
    d->avail_in = (unsigned)size;
    d->next_out = out;
    d->avail_out = (unsigned)out_size;
    if (deflate(d, Z_SYNC_FLUSH) != Z_OK || d->avail_in) { fprintf(stderr, "deflate failed\n"); return 1; }
    bytes += (double)(out_size - d->avail_out - 4);
    if (shared && m < first && !decodes_alone(out, out_size - d->avail_out, message, size, check)) {
      fprintf(stderr, "message %d does not decode alone\n", m);
      return 1;
    }
    if (shared) deflateReset(d);
  }
  free(check);
  double measured = total - first, seconds = cpu_seconds() - start;
  printf("%s size %zu level %d window %d memLevel %d %s: %.1f B/msg, %.2f us/msg\n", ng ? "zlibng" : "zlib", size, level, window_bits, mem_level,
         shared ? "shared" : "dedicated", bytes / measured, seconds / measured * 1e6);
  return 0;
}
