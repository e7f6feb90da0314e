// bench/tls-idle/malloc-sites.c: an LD_PRELOAD library that counts the glibc heap memory live at each call site
// of a process, for bench/tls-idle.sh (what an idle TLS connection keeps in native memory, by owner).
//
// Build: cc -O2 -shared -fPIC -o malloc-sites.so malloc-sites.c -ldl -lpthread
// Run:   MALLOC_SITES_OUT=/tmp/sites LD_PRELOAD=./malloc-sites.so PROGRAM ...
//        then `touch /tmp/sites.go`: within 0.1 s the library writes /tmp/sites.N (N = 1, 2, ...) and removes
//        /tmp/sites.go. Each line of a report: live_bytes live_blocks then the call site, innermost frame first,
//        frames as library!nearest_exported_symbol joined by " < " (functions that are not exported show as the
//        exported symbol before them). The first line: "# mallinfo2 arena= hblkhd= uordblks= fordblks=".
//
// Every block gets a 16-byte header (the site, the size asked for), so the process's heap is a little larger under
// the library than without it: it attributes bytes, RSS is measured without it. glibc calls the replaced malloc for
// its own allocations too (the GNU C Library manual, "Replacing malloc"), so every block has a header; a pointer
// without one (none is expected) is handed to glibc as is.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define DEPTH 12         // frames kept per site
#define SKIP 2           // record_site and the allocation function itself
#define MAX_SITES (1 << 18)
#define MAGIC 0x51735eedu

typedef struct {
  uint32_t magic;
  uint32_t site;
  uint32_t size;   // bytes asked for (blocks of 4 GiB and more count as 4 GiB - 1)
  uint32_t offset; // from the block glibc returned to the header (memalign), else 0
} header;

typedef struct {
  uint64_t hash;
  int n;
  void *frames[DEPTH];
  int64_t live_bytes, live_blocks;
} site;

static site *sites; // mmap'd: site 0 is "untracked" (allocations made while the library itself runs)
static uint32_t nsites = 1;
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int in_hook __attribute__((tls_model("initial-exec")));
static const char *out_path;

static uint32_t record_site(void) __attribute__((noinline));
static uint32_t record_site(void) {
  if (in_hook || sites == NULL) return 0;
  in_hook = 1;
  void *frames[DEPTH + SKIP];
  int n = backtrace(frames, DEPTH + SKIP) - SKIP;
  if (n < 0) n = 0;
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < n; i++) h = (h ^ (uint64_t)(uintptr_t)frames[SKIP + i]) * 1099511628211ull;
  uint32_t slot = (uint32_t)(h % (MAX_SITES - 1)) + 1, found = 0;
  pthread_mutex_lock(&sites_lock);
  for (uint32_t probes = 0; probes < MAX_SITES; probes++, slot = slot % (MAX_SITES - 1) + 1) {
    site *s = &sites[slot];
    if (s->n == 0 && s->hash == 0) {
      if (nsites >= MAX_SITES - 1) break;
      s->hash = h | 1;
      s->n = n ? n : -1;
      memcpy(s->frames, frames + SKIP, (size_t)n * sizeof(void *));
      nsites++;
      found = slot;
      break;
    }
    if (s->hash == (h | 1) && (s->n == n || (n == 0 && s->n == -1)) &&
        memcmp(s->frames, frames + SKIP, (size_t)n * sizeof(void *)) == 0) {
      found = slot;
      break;
    }
  }
  pthread_mutex_unlock(&sites_lock);
  in_hook = 0;
  return found;
}

static void *track(void *block, size_t offset, size_t size, uint32_t s) {
  if (block == NULL) return NULL;
  header *hd = (header *)((char *)block + offset);
  hd->magic = MAGIC;
  hd->site = s;
  hd->size = size > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)size;
  hd->offset = (uint32_t)offset;
  if (sites == NULL) return hd + 1; // before the constructor ran
  __atomic_add_fetch(&sites[s].live_bytes, (int64_t)hd->size, __ATOMIC_RELAXED);
  __atomic_add_fetch(&sites[s].live_blocks, 1, __ATOMIC_RELAXED);
  return hd + 1;
}

static header *header_of(void *p) {
  header *hd = (header *)p - 1;
  return hd->magic == MAGIC ? hd : NULL;
}

// Forgets the block of p and returns what glibc must free.
static void *untrack(void *p) {
  header *hd = header_of(p);
  if (hd == NULL) return p;
  hd->magic = 0;
  if (sites != NULL) {
      __atomic_sub_fetch(&sites[hd->site].live_bytes, (int64_t)hd->size, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&sites[hd->site].live_blocks, 1, __ATOMIC_RELAXED);
  }
  return (char *)hd - hd->offset;
}

void *malloc(size_t size) {
  uint32_t s = record_site();
  if (size > SIZE_MAX - sizeof(header)) { errno = ENOMEM; return NULL; }
  return track(__libc_malloc(size + sizeof(header)), 0, size, s);
}

void free(void *p) {
  if (p != NULL) __libc_free(untrack(p));
}

void *calloc(size_t count, size_t size) {
  uint32_t s = record_site();
  if (size && count > (SIZE_MAX - sizeof(header)) / size) { errno = ENOMEM; return NULL; }
  return track(__libc_calloc(1, count * size + sizeof(header)), 0, count * size, s);
}

void *realloc(void *p, size_t size) {
  if (p == NULL) return malloc(size);
  if (size == 0) { free(p); return NULL; }
  header *hd = header_of(p);
  if (hd == NULL || hd->offset != 0) {
    // Aligned (or foreign) blocks move by hand: a new block, the old bytes, the old block freed.
    size_t old = hd ? hd->size : malloc_usable_size(p);
    void *q = malloc(size);
    if (q != NULL) { memcpy(q, p, old < size ? old : size); free(p); }
    return q;
  }
  uint32_t s = record_site();
  void *raw = untrack(p);
  void *next = __libc_realloc(raw, size + sizeof(header));
  if (next == NULL) { track(raw, 0, hd->size, hd->site); return NULL; }
  return track(next, 0, size, s);
}

static void *aligned(size_t alignment, size_t size) {
  uint32_t s = record_site();
  if (alignment <= sizeof(header)) return track(__libc_malloc(size + sizeof(header)), 0, size, s);
  // The header sits just before the aligned address: alignment - 16 bytes into a block aligned to alignment.
  return track(__libc_memalign(alignment, size + alignment), alignment - sizeof(header), size, s);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  void *p = aligned(alignment, size);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
void *memalign(size_t alignment, size_t size) { return aligned(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { return aligned(alignment, size); }
void *valloc(size_t size) { return aligned((size_t)sysconf(_SC_PAGESIZE), size); }
void *pvalloc(size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  return aligned(page, (size + page - 1) / page * page);
}
size_t malloc_usable_size(void *p) {
  if (p == NULL) return 0;
  header *hd = header_of(p);
  return hd ? hd->size : 0;
}

static void frame_name(void *pc, char *buf, size_t len) {
  Dl_info info;
  if (dladdr(pc, &info) && info.dli_fname) {
    const char *lib = strrchr(info.dli_fname, '/');
    lib = lib ? lib + 1 : info.dli_fname;
    if (info.dli_sname)
      snprintf(buf, len, "%s!%s", lib, info.dli_sname);
    else
      snprintf(buf, len, "%s!+0x%lx", lib, (unsigned long)((char *)pc - (char *)info.dli_fbase));
  } else {
    snprintf(buf, len, "?");
  }
}

static void write_report(int number) {
  char path[4096];
  snprintf(path, sizeof path, "%s.%d", out_path, number);
  FILE *f = fopen(path, "w");
  if (f == NULL) return;
  struct mallinfo2 mi = mallinfo2();
  fprintf(f, "# mallinfo2 arena=%zu hblkhd=%zu uordblks=%zu fordblks=%zu\n", mi.arena, mi.hblkhd, mi.uordblks,
          mi.fordblks);
  for (uint32_t i = 0; i < MAX_SITES; i++) {
    site *s = &sites[i];
    int64_t bytes = __atomic_load_n(&s->live_bytes, __ATOMIC_RELAXED);
    int64_t blocks = __atomic_load_n(&s->live_blocks, __ATOMIC_RELAXED);
    if (blocks == 0) continue;
    fprintf(f, "%lld %lld ", (long long)bytes, (long long)blocks);
    if (i == 0) fputs("(untracked)", f);
    for (int k = 0; k < s->n; k++) {
      char name[512];
      frame_name(s->frames[k], name, sizeof name);
      fprintf(f, "%s%s", k ? " < " : "", name);
    }
    fputc('\n', f);
  }
  fclose(f);
}

static void *watch(void *arg) {
  (void)arg;
  in_hook = 1; // this thread's own allocations count as untracked
  char go[4096];
  snprintf(go, sizeof go, "%s.go", out_path);
  for (int number = 1;; usleep(100 * 1000)) {
    if (access(go, F_OK) != 0) continue;
    write_report(number++);
    unlink(go);
  }
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  sites = mmap(NULL, sizeof(site) * MAX_SITES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sites == MAP_FAILED) { sites = NULL; return; }
  in_hook = 1;
  void *warm[4];
  backtrace(warm, 4); // loads the unwinder now, outside any allocation
  out_path = getenv("MALLOC_SITES_OUT");
  if (out_path != NULL) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&t, &attr, watch, NULL);
    pthread_attr_destroy(&attr);
  }
  in_hook = 0;
}
